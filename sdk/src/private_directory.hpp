// Directories libhusk keeps state in as root (/run/husk, /run/husk/ids, /run/husk/jail): made
// and opened one component at a time below a trusted base, never through a symlink, and refused
// unless owned by this process's effective uid and writable by nobody else — so another user
// can neither plant lock files nor swap a directory for a link to somewhere that matters.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <sys/types.h>

namespace husk::detail {

// Opens <base>/<relative> (e.g. "/run" and "husk/ids"), creating missing components with `mode`.
// The base is trusted as given; each component below it must be a real directory (no symlink),
// owned by geteuid() and without group or world write permission. Returns an O_DIRECTORY
// descriptor of the last component.
Result<Fd> open_private_directory(std::string const& base, std::string const& relative, mode_t mode);

} // namespace husk::detail

// The socket of husk-vmm's --net-stream: a connected unix stream socket whose peer (passt)
// exchanges length-prefixed Ethernet frames with the VMM. Either handed over as an inherited
// descriptor (how libhusk passes passt's socketpair end) or connected by path (passt
// --socket PATH). Either way it ends up non-blocking and close-on-exec.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <string>

namespace husk {

// Takes ownership of `fd` after checking that it is a unix stream socket.
Result<Fd> adopt_net_stream_socket(int fd);
Result<Fd> connect_net_stream_socket(std::string const& path);

} // namespace husk

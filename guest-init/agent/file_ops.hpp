// The one-shot file requests of the job protocol: Stat, Mkdir, Remove, and the errno → ErrorCode
// mapping shared with file transfers. Paths arrive already checked by the codec (absolute, no NUL,
// bounded). The agent is root in a guest that is itself the sandbox, so paths are the guest's own
// business; what matters here is exact errors and never following a symlink while deleting.
#pragma once

#include "guest-init/protocol/messages.hpp"

#include <string>
#include <variant>

namespace husk::agent {

protocol::ErrorCode error_code_from_errno(int error);
// ErrorReply for a failed system call: "<what> <path>: <strerror>".
protocol::ErrorReply error_reply_from_errno(std::string const& what, std::string const& path, int error);

// StatReply for the path itself (a symlink is reported as one, not followed).
std::variant<protocol::StatReply, protocol::ErrorReply> stat_path(protocol::Stat const& request);

// Ack or ErrorReply. With `parents`, missing parents are created with mode 0755 and an existing
// directory is accepted, like `mkdir -p -m mode`. A newly created directory gets exactly `mode`
// (the umask does not apply).
std::variant<protocol::Ack, protocol::ErrorReply> make_directory(protocol::Mkdir const& request);

// Ack or ErrorReply. A directory needs `recursive` unless empty; recursion never follows
// symlinks (a symlink to a directory is removed, not its target) and refuses the root directory.
std::variant<protocol::Ack, protocol::ErrorReply> remove_path(protocol::Remove const& request);

} // namespace husk::agent

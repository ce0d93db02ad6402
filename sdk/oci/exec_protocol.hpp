// The messages between `husk-oci exec` and the container's monitor, over a SOCK_SEQPACKET Unix
// socket (one message per packet). exec sends "exec\n" + the process JSON with its stdin, stdout
// and stderr attached (SCM_RIGHTS); the monitor answers "started" or "error <message>", later
// "exit <code>" or "signal <number>"; exec sends "signal <number>" to forward a signal.
#pragma once

#include <cstddef>

namespace husk::oci {

inline constexpr char const* exec_request_prefix = "exec\n";
inline constexpr size_t max_exec_message = 128u << 10; // below the default socket buffer: one packet

} // namespace husk::oci

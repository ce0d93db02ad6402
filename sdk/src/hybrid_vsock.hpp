// The host end of the hybrid-vsock handshake (Firecracker's convention, docs/architecture.md):
// connect to the VMM's unix socket, send `CONNECT <port>\n`, read `OK <host port>\n`; the
// stream then reaches the guest's listener on that port.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace husk::detail {

// Longest reply line accepted ("OK 4294967295\n" is 14 bytes).
inline constexpr size_t max_connect_reply_size = 32;

// Parses the reply line including its '\n': the host port, or why the line is not `OK <n>\n`.
Result<uint32_t> parse_connect_reply(std::string_view line);

enum class ConnectStage : uint8_t {
    NoSocket, // nothing listens at the path yet (the VMM is still starting)
    NoListener, // the VMM closed the connection: nothing listens on the guest port yet
    Failed, // anything else
};

// One attempt, bounded by `deadline`; on failure `stage_on_failure` says whether to retry. The returned stream is
// blocking, close-on-exec.
Result<Fd> connect_hybrid_vsock(std::string const& socket_path, uint32_t port,
    std::chrono::steady_clock::time_point deadline, ConnectStage& stage_on_failure);

} // namespace husk::detail

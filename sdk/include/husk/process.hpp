// Process: a job started in a sandbox with Sandbox::start(), running while the caller feeds its
// stdin, receives its output and decides when to wait or kill it. Thread-safe.
#pragma once

#include "husk/error.hpp"
#include "husk/run_result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace husk {

namespace detail {
    class ExecOperation;
}

class Process {
public:
    Process(Process&&) noexcept;
    Process& operator=(Process&&) noexcept;
    Process(Process const&) = delete;
    Process& operator=(Process const&) = delete;
    /// Kills the job (SIGKILL) if it is still running: a dropped handle leaves nothing behind.
    ~Process();

    /// The job's correlation id on the agent connection (for logs).
    uint32_t id() const;

    /// Sends bytes to the job's stdin (split into protocol chunks as needed). Blocks while the
    /// connection is backed up.
    Result<void> write_stdin(std::span<uint8_t const> data);
    Result<void> write_stdin(std::string_view data);
    /// End of input: the job reads EOF.
    Result<void> close_stdin();

    /// Delivers signal `signo` (1..64) to the job's process group.
    Result<void> signal(int signo);
    Result<void> kill();

    /// Waits for the end. With a timeout, a job still running then gives a Timeout error and is
    /// left running (wait again, or kill()).
    Result<RunResult> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    bool has_exited() const;

private:
    friend class Sandbox;
    explicit Process(std::shared_ptr<detail::ExecOperation> operation);
    std::shared_ptr<detail::ExecOperation> m_operation;
};

} // namespace husk

// Tunables of the agent, with the defaults husk-init uses in the guest. Tests shrink the time
// limits; nothing else should need to change them.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace husk::agent {

// Who reaps the children. PID 1 must reap every zombie, adopted orphans included; a test process
// must only ever wait for the agent's own jobs.
enum class ChildReaping { OwnJobsOnly, AllChildren };

inline constexpr char const* default_job_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct AgentOptions {
    ChildReaping reaping { ChildReaping::OwnJobsOnly };
    // Soft bound of one connection's queued output (see OutputQueue).
    size_t output_queue_limit { 4 * 1024 * 1024 };
    // A job's stdin data not yet taken by the job; above it the connection's requests wait.
    size_t stdin_backlog_limit { 1024 * 1024 };
    // How long a reaped job's pipes may stay open (held by a background grandchild).
    std::chrono::milliseconds drain_grace { 2000 };
    // How long a connection that broke the protocol gets to take its ErrorReply before the close.
    std::chrono::milliseconds failure_flush_limit { 2000 };
    // How long Shutdown waits, after queueing its Ack, for the host to close the connection (the
    // sign that the Ack arrived) before the agent returns anyway.
    std::chrono::milliseconds shutdown_close_limit { 1000 };
    std::string default_path { default_job_path };
    std::string default_cwd { "/" };
    size_t max_connections { 64 };
    // Live execs, uploads and downloads per connection; each holds up to four fds.
    size_t max_operations_per_connection { 128 };
};

} // namespace husk::agent

// AgentClient: the host end of one agent connection. One reader thread decodes every frame
// (strictly, as sent by the guest: a compromised guest may forge anything) and hands each message
// to the Operation registered under its correlation id, so any number of jobs and file operations
// run concurrently from any thread. Senders share the stream under a mutex.
//
// When the stream ends, the agent breaks the protocol, or `watch_fd` (the VMM's pidfd) becomes
// readable, every pending operation fails at once with the error `explain` builds (so callers see
// "the VM died: ..." rather than a bare EOF), and so does every later call.
#pragma once

#include "guest-init/protocol/messages.hpp"
#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "sdk/src/operation.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace husk::detail {

class AgentClient {
public:
    // Turns the reason the reader stopped into the error callers see.
    using Explain = std::function<Error(Error reason)>;
    using Deadline = std::chrono::steady_clock::time_point;

    static Result<std::unique_ptr<AgentClient>> create(Fd stream, int watch_fd = -1, Explain explain = {});
    // Fails what is pending ("the sandbox was closed"), stops the reader, closes the stream.
    ~AgentClient();
    AgentClient(AgentClient const&) = delete;
    AgentClient& operator=(AgentClient const&) = delete;

    // Connection-level exchanges (correlation id 0), one at a time.
    Result<protocol::HelloReply> hello(Deadline deadline);
    Result<void> ping(Deadline deadline);
    Result<void> shutdown(Deadline deadline);
    // After a snapshot restore: the guest's clock, RNG and hostname (protocol::Refresh), and its
    // network when `refresh.network` is set; that needs an agent whose Hello answer carried
    // Capability::RefreshNetwork, or it fails (BadConfig) without sending anything.
    Result<void> refresh(protocol::Refresh const& refresh, Deadline deadline);
    // The capabilities of the agent's HelloReply (0 before hello()).
    uint64_t agent_capabilities() const { return m_agent_capabilities.load(); }
    // Hello and a Refresh without a network sent together (one round trip): a restored
    // sandbox's greeting. A clone's network follows in a refresh() of its own once the Hello
    // answer's capabilities are known.
    Result<protocol::HelloReply> hello_and_refresh(protocol::Refresh const& refresh, Deadline deadline);

    // Registers `operation` under a fresh id and sends `first` with it.
    Result<uint32_t> begin(std::shared_ptr<Operation> operation, protocol::Message const& first);
    Result<void> send(uint32_t id, protocol::Message const& message);
    // Stops delivering to `id`; later messages with it are dropped.
    void forget(uint32_t id);

    // The error everything fails with once the connection is gone.
    std::optional<Error> failure() const;
    // Fails everything with `reason`, stops the reader and shuts the stream down, so the agent
    // sees the connection end at once (idempotent).
    void close(Error reason);

private:
    AgentClient(Fd stream, int watch_fd, Explain explain, EventFd wake);
    Result<protocol::Message> exchange(protocol::Message const& request, Deadline deadline);
    // Sends every request, then collects one reply per request, in order.
    Result<std::vector<protocol::Message>> exchange_all(
        std::vector<protocol::Message> const& requests, Deadline deadline);
    // Refuses a newer protocol version; records the agent's capabilities.
    Result<protocol::HelloReply> check_hello(Result<protocol::HelloReply> reply);
    Result<void> send_bytes(std::vector<uint8_t> const& bytes);
    void read_loop();
    void dispatch(uint32_t id, protocol::Message message);
    void fail_all(Error error);

    Fd m_stream;
    int m_watch_fd;
    Explain m_explain;
    EventFd m_wake;
    std::thread m_reader;

    mutable std::mutex m_mutex; // guards everything below
    std::map<uint32_t, std::shared_ptr<Operation>> m_operations;
    std::shared_ptr<Operation> m_connection_operation; // the id-0 exchange in progress
    std::optional<Error> m_failure;
    uint32_t m_next_id { 1 };
    uint64_t m_next_nonce { 1 };

    std::atomic<uint64_t> m_agent_capabilities { 0 };
    std::atomic<bool> m_failed { false }; // m_failure is set: lets a blocked sender give up
    std::mutex m_send_mutex; // one frame at a time on the stream
    std::mutex m_exchange_mutex; // one id-0 exchange at a time
};

} // namespace husk::detail

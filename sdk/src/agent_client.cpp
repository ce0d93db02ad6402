// AgentClient: reader thread, dispatch by correlation id, serialized sends, fail-everything.
// The connection-level exchanges (Hello, Ping, Shutdown) are in agent_client_exchanges.cpp.
#include "sdk/src/agent_client.hpp"

#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"

#include <csignal>
#include <poll.h>
#include <sys/socket.h>

namespace husk::detail {

using namespace husk::protocol;

namespace {

    constexpr size_t read_chunk_size = 256 * 1024;
    // A sender blocked on a full socket re-checks this often whether the connection failed.
    constexpr int send_poll_ms = 50;

    Error disconnected(std::string message) { return Error { std::move(message), 0, ErrorKind::AgentDisconnected }; }

} // namespace

Result<std::unique_ptr<AgentClient>> AgentClient::create(Fd stream, int watch_fd, Explain explain)
{
    auto wake = TRY(EventFd::create());
    if (!explain)
        explain = [](Error reason) { return reason; };
    auto client = std::unique_ptr<AgentClient>(
        new AgentClient(std::move(stream), watch_fd, std::move(explain), std::move(wake)));
    client->m_reader = std::thread([raw = client.get()] { raw->read_loop(); });
    return client;
}

AgentClient::AgentClient(Fd stream, int watch_fd, Explain explain, EventFd wake)
    : m_stream(std::move(stream))
    , m_watch_fd(watch_fd)
    , m_explain(std::move(explain))
    , m_wake(std::move(wake))
{
}

AgentClient::~AgentClient() { close(disconnected("the sandbox was closed")); }

void AgentClient::close(Error reason)
{
    fail_all(std::move(reason));
    (void)m_wake.signal();
    if (m_reader.joinable()) {
        if (m_reader.get_id() == std::this_thread::get_id())
            m_reader.detach(); // closed from an output callback: the loop returns on its own
        else
            m_reader.join();
    }
    // The agent must see the end now, not when the last Process handle lets go of this client:
    // after a Shutdown it waits for it before the guest powers off (docs/guest-abi.md). The
    // descriptor itself stays open until then, so no other file can take its number meanwhile.
    ::shutdown(m_stream.get(), SHUT_RDWR);
}

std::optional<Error> AgentClient::failure() const
{
    std::lock_guard lock(m_mutex);
    return m_failure;
}

void AgentClient::fail_all(Error error)
{
    std::map<uint32_t, std::shared_ptr<Operation>> operations;
    std::shared_ptr<Operation> connection_operation;
    {
        std::lock_guard lock(m_mutex);
        if (!m_failure)
            m_failure = std::move(error);
        m_failed = true;
        operations.swap(m_operations);
        connection_operation = std::move(m_connection_operation);
        error = *m_failure;
    }
    for (auto& [id, operation] : operations)
        operation->on_failure(error);
    if (connection_operation)
        connection_operation->on_failure(error);
}

void AgentClient::read_loop()
{
    // A library thread: the application's signals (SIGINT, SIGCHLD, ...) are for its own threads.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    FrameDecoder decoder;
    std::vector<uint8_t> buffer(read_chunk_size);
    for (;;) {
        pollfd fds[3] = { { m_stream.get(), POLLIN, 0 }, { m_wake.fd(), POLLIN, 0 }, { m_watch_fd, POLLIN, 0 } };
        int ready = poll(fds, m_watch_fd >= 0 ? 3 : 2, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fail_all(m_explain(disconnected(Error::from_errno("poll").message)));
            return;
        }
        if (fds[1].revents)
            return; // close(): everything has already failed
        // The stream first: what the agent sent before the VMM went away is still delivered.
        if (!fds[0].revents) {
            if (fds[2].revents) {
                fail_all(m_explain(Error { "husk-vmm exited", 0, ErrorKind::VmDied }));
                return;
            }
            continue;
        }
        ssize_t got = recv(m_stream.get(), buffer.data(), buffer.size(), 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            auto reason = got == 0 ? disconnected(decoder.has_partial_frame() ? "the agent connection ended mid-frame"
                                                                              : "the agent closed the connection")
                                   : disconnected(Error::from_errno("agent connection").message);
            fail_all(m_explain(std::move(reason)));
            return;
        }
        decoder.feed(std::span<uint8_t const>(buffer.data(), static_cast<size_t>(got)));
        for (;;) {
            auto frame = decoder.next();
            if (!frame) {
                fail_all(m_explain(disconnected("the agent broke the framing: " + frame.error().message)));
                return;
            }
            if (!frame->has_value())
                break;
            auto message = decode_message(**frame, Peer::Guest);
            if (!message) {
                fail_all(m_explain(disconnected("the agent sent an invalid message: " + message.error().message)));
                return;
            }
            dispatch((*frame)->correlation_id, std::move(*message));
        }
    }
}

void AgentClient::dispatch(uint32_t id, Message message)
{
    std::shared_ptr<Operation> operation;
    {
        std::lock_guard lock(m_mutex);
        if (id == 0) {
            operation = m_connection_operation;
        } else if (auto found = m_operations.find(id); found != m_operations.end()) {
            operation = found->second;
        }
    }
    if (!operation) {
        // Late replies for forgotten operations are expected; a connection-level error is not.
        if (auto* error = std::get_if<ErrorReply>(&message); error && id == 0)
            fail_all(m_explain(disconnected("the agent reported a connection error: " + error->message)));
        return;
    }
    if (!operation->on_message(std::move(message)))
        return;
    std::lock_guard lock(m_mutex);
    if (id == 0 && m_connection_operation == operation)
        m_connection_operation.reset();
    else if (auto found = m_operations.find(id); found != m_operations.end() && found->second == operation)
        m_operations.erase(found);
}

Result<void> AgentClient::send_bytes(std::vector<uint8_t> const& bytes)
{
    std::lock_guard lock(m_send_mutex);
    size_t sent = 0;
    while (sent < bytes.size()) {
        if (m_failed)
            return unexpected(*failure());
        pollfd fd { m_stream.get(), POLLOUT, 0 };
        if (poll(&fd, 1, send_poll_ms) <= 0)
            continue;
        ssize_t written = ::send(m_stream.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            auto error = Error::from_errno("sending to the agent");
            error.kind = ErrorKind::AgentDisconnected;
            return unexpected(std::move(error));
        }
        sent += static_cast<size_t>(written);
    }
    return {};
}

Result<void> AgentClient::send(uint32_t id, Message const& message)
{
    if (m_failed)
        return unexpected(*failure());
    auto bytes = encode_message_checked(id, message);
    if (!bytes)
        return fail(ErrorKind::BadConfig,
            "invalid " + std::string(message_name(message)) + " request: " + bytes.error().message);
    return send_bytes(*bytes);
}

Result<uint32_t> AgentClient::begin(std::shared_ptr<Operation> operation, Message const& first)
{
    uint32_t id = 0;
    {
        std::lock_guard lock(m_mutex);
        if (m_failure)
            return unexpected(*m_failure);
        do {
            id = m_next_id++;
        } while (id == 0 || m_operations.contains(id));
        m_operations.emplace(id, std::move(operation));
    }
    if (auto sent = send(id, first); !sent) {
        forget(id);
        return unexpected(std::move(sent).error());
    }
    return id;
}

void AgentClient::forget(uint32_t id)
{
    std::lock_guard lock(m_mutex);
    m_operations.erase(id);
}

} // namespace husk::detail

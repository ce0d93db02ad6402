// Host side of the agent tests: a client speaking the real protocol codec over one end of a
// socketpair (or a unix socket), and a fixture that runs an AgentServer on its own thread. The
// server is created on the test thread, so SIGCHLD is blocked there before the server thread
// starts and inherits the mask (see agent_server.hpp).
#pragma once

#include "guest-init/agent/agent_server.hpp"
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace husk::agent::testing {

using namespace husk::protocol;
using namespace std::chrono_literals;

inline constexpr auto receive_timeout = 10s;

struct Received {
    uint32_t id;
    Message message;
};

class TestClient {
public:
    explicit TestClient(Fd fd)
        : m_fd(std::move(fd))
    {
    }

    int fd() const { return m_fd.get(); }

    void send(uint32_t id, Message const& message) { send_raw(encode_message(id, message)); }

    // Writes everything, reading (and keeping) incoming frames meanwhile so that a test sending
    // a lot never deadlocks against an agent that is waiting for room to send.
    void send_raw(std::vector<uint8_t> const& bytes)
    {
        size_t sent = 0;
        while (sent < bytes.size()) {
            pollfd fds { m_fd.get(), POLLIN | POLLOUT, 0 };
            ASSERT_GT(poll(&fds, 1, static_cast<int>(receive_timeout / 1ms)), 0) << "send timed out";
            if (fds.revents & POLLIN)
                read_some();
            if (fds.revents & POLLOUT) {
                ssize_t written
                    = ::send(m_fd.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (written < 0 && errno == EAGAIN)
                    continue;
                ASSERT_GT(written, 0) << "send failed: " << strerror(errno);
                sent += static_cast<size_t>(written);
            }
            if (m_eof && !(fds.revents & POLLOUT))
                FAIL() << "agent closed the connection while the test was sending";
        }
    }

    // The next message (for `id` only, if given; others are kept for later), or nothing on EOF or
    // timeout.
    std::optional<Received> receive(
        std::optional<uint32_t> id = std::nullopt, std::chrono::milliseconds timeout = receive_timeout)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            for (auto it = m_stash.begin(); it != m_stash.end(); ++it) {
                if (!id || it->id == *id) {
                    auto found = std::move(*it);
                    m_stash.erase(it);
                    return found;
                }
            }
            auto left
                = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (m_eof || left.count() <= 0)
                return std::nullopt;
            pollfd fds { m_fd.get(), POLLIN, 0 };
            if (poll(&fds, 1, static_cast<int>(left.count())) > 0)
                read_some();
        }
    }

    // True once the agent closed the connection (after everything it sent was read).
    bool wait_for_eof(std::chrono::milliseconds timeout = receive_timeout)
    {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!m_eof && std::chrono::steady_clock::now() < deadline) {
            pollfd fds { m_fd.get(), POLLIN, 0 };
            if (poll(&fds, 1, 50) > 0)
                read_some();
        }
        return m_eof;
    }

    void shutdown_write() { ::shutdown(m_fd.get(), SHUT_WR); }
    void close() { m_fd.reset(); }

private:
    void read_some()
    {
        std::vector<uint8_t> buffer(256 * 1024);
        ssize_t got = ::recv(m_fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            m_eof = true;
            return;
        }
        m_decoder.feed(std::span<uint8_t const>(buffer.data(), static_cast<size_t>(got)));
        for (;;) {
            auto frame = m_decoder.next();
            ASSERT_TRUE(frame) << frame.error().message;
            if (!frame->has_value())
                return;
            auto message = decode_message(**frame, Peer::Guest);
            ASSERT_TRUE(message) << "agent sent an invalid frame: " << message.error().message;
            m_stash.push_back(Received { (*frame)->correlation_id, std::move(*message) });
        }
    }

    Fd m_fd;
    FrameDecoder m_decoder;
    std::deque<Received> m_stash;
    bool m_eof { false };
};

// Everything one exec produced.
struct ExecResult {
    std::string out;
    std::string err;
    std::optional<Exited> exited;
    std::optional<SpawnFailed> spawn_failed;
    std::optional<ErrorReply> error;
    size_t output_frames { 0 };
};

// For failure messages: how an exec ended.
inline std::string describe(ExecResult const& result)
{
    std::string text = "stdout '" + result.out + "' stderr '" + result.err + "'";
    if (result.exited)
        text += " exited kind " + std::to_string(static_cast<int>(result.exited->kind)) + " value "
            + std::to_string(result.exited->value);
    if (result.spawn_failed)
        text += " spawn failed " + std::to_string(static_cast<int>(result.spawn_failed->error)) + ": "
            + result.spawn_failed->message;
    if (result.error)
        text += " error " + std::to_string(static_cast<int>(result.error->code)) + ": " + result.error->message;
    return text;
}

// Reads the frames of exec `id` until its final message (Exited, SpawnFailed or ErrorReply).
inline ExecResult collect_exec(TestClient& client, uint32_t id, std::chrono::milliseconds timeout = receive_timeout)
{
    ExecResult result;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        auto received = client.receive(id, left);
        if (!received) {
            ADD_FAILURE() << "exec " << id << ": no final message";
            return result;
        }
        if (auto* output = std::get_if<Output>(&received->message)) {
            auto& stream = output->stream == OutputStream::Stdout ? result.out : result.err;
            stream.append(output->data.begin(), output->data.end());
            ++result.output_frames;
        } else if (auto* exited = std::get_if<Exited>(&received->message)) {
            result.exited = *exited;
            return result;
        } else if (auto* failed = std::get_if<SpawnFailed>(&received->message)) {
            result.spawn_failed = *failed;
            return result;
        } else if (auto* error = std::get_if<ErrorReply>(&received->message)) {
            result.error = *error;
            return result;
        } else {
            ADD_FAILURE() << "exec " << id << ": unexpected " << message_type_name(message_type(received->message));
            return result;
        }
    }
}

inline Exec exec_of(std::vector<std::string> argv)
{
    Exec exec;
    exec.argv = std::move(argv);
    return exec;
}

inline Exec shell(std::string script) { return exec_of({ "sh", "-c", std::move(script) }); }

// A fresh directory under the system temp directory, removed afterwards.
class TempDir {
public:
    TempDir()
    {
        auto pattern = (std::filesystem::temp_directory_path() / "husk-agent-test-XXXXXX").string();
        char const* made = mkdtemp(pattern.data());
        EXPECT_NE(made, nullptr);
        m_path = pattern;
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    std::string const& path() const { return m_path; }
    std::string operator/(std::string const& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

class AgentServerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // Short enough for the tests that wait on them.
        options.drain_grace = 300ms;
        options.failure_flush_limit = 1000ms;
    }

    void TearDown() override { stop(); }

    // A connected client; call before start() (add_connection is not thread-safe).
    TestClient& connect()
    {
        create_server();
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        auto added = server->add_connection(Fd(fds[0]));
        EXPECT_TRUE(added) << (added ? "" : added.error().message);
        clients.push_back(std::make_unique<TestClient>(Fd(fds[1])));
        return *clients.back();
    }

    void create_server()
    {
        if (server)
            return;
        auto created = AgentServer::create(options);
        ASSERT_TRUE(created) << created.error().message;
        server = std::move(*created);
    }

    void start()
    {
        create_server();
        thread = std::thread([this] {
            outcome.emplace(server->run());
            run_ended = true;
        });
    }

    void stop()
    {
        if (thread.joinable()) {
            server->stop();
            thread.join();
        }
        clients.clear();
        server.reset();
    }

    AgentOptions options;
    std::unique_ptr<AgentServer> server;
    std::vector<std::unique_ptr<TestClient>> clients;
    std::thread thread;
    std::optional<Result<StopReason>> outcome; // read it after joining `thread`
    std::atomic<bool> run_ended { false }; // safe to read while the thread runs
    TempDir temp;
};

} // namespace husk::agent::testing

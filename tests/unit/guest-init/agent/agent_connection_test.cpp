// AgentServer connections: handshake, ping, protocol violations, several connections (directly
// and through a listening unix socket), half-close, hangup and Shutdown.
#include "tests/unit/guest-init/agent/agent_test_client.hpp"

#include <sys/un.h>

namespace husk::agent::testing {
namespace {

    using AgentConnection = AgentServerTest;

    // The message if it is a T (a copy: `received` is usually a temporary).
    template<typename T>
    std::optional<T> expect_message(std::optional<Received> const& received)
    {
        EXPECT_TRUE(received);
        if (!received)
            return std::nullopt;
        auto const* typed = std::get_if<T>(&received->message);
        EXPECT_NE(typed, nullptr) << "got " << message_type_name(message_type(received->message));
        return typed ? std::optional<T>(*typed) : std::nullopt;
    }

    TEST_F(AgentConnection, Hello_RepliesVersionOneAndCapabilities)
    {
        auto& client = connect();
        start();

        client.send(0, Hello { 7, ~uint64_t { 0 } });
        auto reply = expect_message<HelloReply>(client.receive());

        ASSERT_TRUE(reply);
        EXPECT_EQ(reply->version, 1u);
        EXPECT_EQ(reply->capabilities, agent_capabilities);
        EXPECT_TRUE(reply->capabilities & capability_bit(Capability::Exec));
        EXPECT_TRUE(reply->capabilities & capability_bit(Capability::Files));
    }

    TEST_F(AgentConnection, Ping_RepliesPongWithTheNonce)
    {
        auto& client = connect();
        start();

        client.send(0, Ping { 0x1122334455667788 });
        auto pong = expect_message<Pong>(client.receive());

        ASSERT_TRUE(pong);
        EXPECT_EQ(pong->nonce, 0x1122334455667788u);
    }

    TEST_F(AgentConnection, BadMagic_GetsProtocolErrorThenClose)
    {
        auto& client = connect();
        start();

        client.send_raw(std::vector<uint8_t>(frame_header_size, 0x5a));
        auto error = expect_message<ErrorReply>(client.receive());

        ASSERT_TRUE(error);
        EXPECT_EQ(error->code, ErrorCode::Protocol);
        EXPECT_NE(error->message.find("magic"), std::string::npos);
        EXPECT_TRUE(client.wait_for_eof());
    }

    TEST_F(AgentConnection, UndecodablePayload_GetsProtocolErrorForItsIdThenCloseAndKillsJobs)
    {
        auto& client = connect();
        start();
        client.send(1, shell("echo running; sleep 30"));
        ASSERT_TRUE(client.receive(1));

        // A Signal payload of the right size carrying signal 0, which decode_message rejects.
        client.send_raw(encode_frame(MessageType::Signal, 1, std::vector<uint8_t>(4, 0)));
        auto error = expect_message<ErrorReply>(client.receive(1));

        ASSERT_TRUE(error);
        EXPECT_EQ(error->code, ErrorCode::Protocol);
        EXPECT_TRUE(client.wait_for_eof(3s));
        // No Exited ever follows: the job was killed with the connection.
        EXPECT_FALSE(client.receive(1, 100ms));
    }

    TEST_F(AgentConnection, GuestOnlyMessageFromHost_IsAProtocolError)
    {
        auto& client = connect();
        start();

        client.send(1, Exited {});
        auto error = expect_message<ErrorReply>(client.receive());

        ASSERT_TRUE(error);
        EXPECT_EQ(error->code, ErrorCode::Protocol);
        EXPECT_TRUE(client.wait_for_eof());
    }

    TEST_F(AgentConnection, TwoConnections_AreServedIndependently)
    {
        auto& first = connect();
        auto& second = connect();
        start();

        // The same correlation id on both: ids are per connection.
        first.send(1, shell("sleep 0.2; echo first"));
        second.send(1, exec_of({ "echo", "second" }));
        auto second_result = collect_exec(second, 1);
        auto first_result = collect_exec(first, 1);

        EXPECT_EQ(first_result.out, "first\n");
        EXPECT_EQ(second_result.out, "second\n");
    }

    TEST_F(AgentConnection, Listener_AcceptsConnections)
    {
        auto path = temp / "agent.sock";
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        ASSERT_LT(path.size(), sizeof address.sun_path);
        std::copy(path.begin(), path.end(), address.sun_path);
        Fd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ASSERT_EQ(listen(listener.get(), 8), 0);
        create_server();
        ASSERT_TRUE(server->add_listener(std::move(listener)));
        start();

        std::vector<std::unique_ptr<TestClient>> accepted;
        for (int i = 0; i < 2; ++i) {
            Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
            accepted.push_back(std::make_unique<TestClient>(std::move(fd)));
        }
        for (uint64_t i = 0; i < accepted.size(); ++i) {
            accepted[i]->send(0, Ping { i });
            auto pong = expect_message<Pong>(accepted[i]->receive());
            ASSERT_TRUE(pong);
            EXPECT_EQ(pong->nonce, i);
        }
    }

    TEST_F(AgentConnection, HalfClose_LetsRunningJobsFinishThenCloses)
    {
        auto& client = connect();
        start();

        client.send(1, shell("sleep 0.2; echo after half-close"));
        client.shutdown_write();
        auto result = collect_exec(client, 1);

        EXPECT_EQ(result.out, "after half-close\n");
        ASSERT_TRUE(result.exited);
        EXPECT_TRUE(client.wait_for_eof());
    }

    TEST_F(AgentConnection, Hangup_KillsTheConnectionsJobs)
    {
        auto& client = connect();
        start();
        auto marker = temp / "survived";

        client.send(1, shell("echo up; sleep 1; touch " + marker));
        ASSERT_TRUE(client.receive(1));
        client.close();
        std::this_thread::sleep_for(1500ms);
        server->stop();
        thread.join();

        EXPECT_FALSE(std::filesystem::exists(marker));
        EXPECT_EQ(server->connection_count(), 0u);
    }

    TEST_F(AgentConnection, Shutdown_AcksAndEndsTheRunWhenTheHostCloses)
    {
        options.shutdown_close_limit = 10s;
        auto& client = connect();
        start();

        client.send(0, Shutdown {});
        auto ack = expect_message<Ack>(client.receive());
        auto acked_at = std::chrono::steady_clock::now();
        client.close();
        thread.join();

        ASSERT_TRUE(ack);
        ASSERT_TRUE(outcome.has_value());
        ASSERT_TRUE(*outcome);
        EXPECT_EQ(**outcome, StopReason::ShutdownRequested);
        EXPECT_LT(std::chrono::steady_clock::now() - acked_at, 5s) << "the run waited for the limit, not the close";
    }

    TEST_F(AgentConnection, Shutdown_WaitsForTheHostToCloseBeforeEndingTheRun)
    {
        // The Ack sitting in the socket is not delivery (in a guest, the vsock transport sends it
        // later): the run must not end while the host still holds the connection open.
        options.shutdown_close_limit = 10s;
        auto& client = connect();
        start();

        client.send(0, Shutdown {});
        ASSERT_TRUE(expect_message<Ack>(client.receive()));
        std::this_thread::sleep_for(300ms);

        EXPECT_FALSE(run_ended.load());
        client.close();
        thread.join();
        ASSERT_TRUE(outcome.has_value());
        EXPECT_EQ(**outcome, StopReason::ShutdownRequested);
    }

    TEST_F(AgentConnection, ShutdownFromAHostThatNeverCloses_EndsTheRunAfterTheLimit)
    {
        options.shutdown_close_limit = 300ms;
        auto& client = connect();
        start();

        auto sent_at = std::chrono::steady_clock::now();
        client.send(0, Shutdown {});
        ASSERT_TRUE(expect_message<Ack>(client.receive()));
        thread.join();

        ASSERT_TRUE(outcome.has_value());
        ASSERT_TRUE(*outcome);
        EXPECT_EQ(**outcome, StopReason::ShutdownRequested);
        EXPECT_GE(std::chrono::steady_clock::now() - sent_at, 300ms);
    }

    TEST_F(AgentConnection, ShutdownThenHalfClose_EndsTheRun)
    {
        options.shutdown_close_limit = 10s;
        auto& client = connect();
        start();

        client.send(0, Shutdown {});
        ASSERT_TRUE(expect_message<Ack>(client.receive()));
        client.shutdown_write();
        thread.join();

        ASSERT_TRUE(outcome.has_value());
        EXPECT_EQ(**outcome, StopReason::ShutdownRequested);
    }

} // namespace
} // namespace husk::agent::testing

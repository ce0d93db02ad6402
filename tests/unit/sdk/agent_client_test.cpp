// AgentClient against a scripted agent: good exchanges, forged and malformed replies (clear
// errors, no crash, nothing left waiting), hang-ups and the VMM-death watch.
#include "sdk/src/agent_client.hpp"
#include "tests/unit/sdk/fake_agent.hpp"

#include "runtime/base/event_fd.hpp"

#include <mutex>
#include <poll.h>

namespace husk::sdk_testing {
namespace {

    using namespace std::chrono_literals;
    using detail::AgentClient;

    auto soon() { return std::chrono::steady_clock::now() + 5s; }

    std::unique_ptr<AgentClient> client_for(Fd fd, int watch_fd = -1, AgentClient::Explain explain = {})
    {
        auto client = AgentClient::create(std::move(fd), watch_fd, std::move(explain));
        EXPECT_TRUE(client);
        return std::move(*client);
    }

    TEST(AgentClient, HelloAndPing_WellFormedReplies_Succeed)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), greet_reply);
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello(soon());
        auto ping = client->ping(soon());

        ASSERT_TRUE(hello) << hello.error().message;
        EXPECT_EQ(hello->version, 1u);
        EXPECT_TRUE(ping) << ping.error().message;
    }

    // An agent that answers Hello with `capabilities`, acknowledges every Refresh and records, in
    // order, the name of every message it got and every Refresh.
    class RecordingAgent {
    public:
        RecordingAgent(Fd fd, uint64_t capabilities)
            : m_agent(std::move(fd), [this, capabilities](Frame const& frame) { return answer(frame, capabilities); })
        {
        }

        std::vector<std::string> names() const
        {
            std::lock_guard lock(m_lock);
            return m_names;
        }
        std::vector<Refresh> refreshes() const
        {
            std::lock_guard lock(m_lock);
            return m_refreshes;
        }

    private:
        std::vector<uint8_t> answer(Frame const& frame, uint64_t capabilities)
        {
            auto message = decode_message(frame, Peer::Host);
            if (!message)
                return {};
            std::lock_guard lock(m_lock);
            m_names.emplace_back(message_name(*message));
            if (std::holds_alternative<Hello>(*message))
                return encode_message(0, HelloReply { 1, capabilities });
            if (auto* refresh = std::get_if<Refresh>(&*message)) {
                m_refreshes.push_back(*refresh);
                return encode_message(0, Ack {});
            }
            return greet_reply(frame);
        }

        mutable std::mutex m_lock;
        std::vector<std::string> m_names;
        std::vector<Refresh> m_refreshes;
        FakeAgent m_agent; // last: its thread records into the members above until it is joined
    };

    TEST(AgentClient, RefreshWithNetwork_ReachesAnAgentThatCanApplyIt)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), capability_bit(Capability::RefreshNetwork));
        auto client = client_for(std::move(pair.host));
        ASSERT_TRUE(client->hello(soon()));

        auto refreshed = client->refresh(Refresh { .hostname = "h", .network = "husk.ip=10.0.0.2/24" }, soon());

        ASSERT_TRUE(refreshed) << refreshed.error().message;
        ASSERT_EQ(agent.refreshes().size(), 1u);
        EXPECT_EQ(agent.refreshes()[0].network, "husk.ip=10.0.0.2/24");
    }

    TEST(AgentClient, RefreshWithNetwork_OlderAgent_FailsClearlyAndSendsNothing)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), capability_bit(Capability::Exec));
        auto client = client_for(std::move(pair.host));
        ASSERT_TRUE(client->hello(soon()));

        auto refreshed = client->refresh(Refresh { .network = "husk.ip=10.0.0.2/24" }, soon());

        ASSERT_FALSE(refreshed);
        EXPECT_EQ(refreshed.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(refreshed.error().message.find("take the snapshot again"), std::string::npos)
            << refreshed.error().message;
        EXPECT_TRUE(agent.refreshes().empty());
        // Without a network the same agent is refreshed as before.
        EXPECT_TRUE(client->refresh(Refresh { .hostname = "h" }, soon()));
        EXPECT_EQ(agent.refreshes().size(), 1u);
    }

    TEST(AgentClient, HelloAndRefresh_SentTogether_BothAnswered)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), 0);
        auto client = client_for(std::move(pair.host));
        Refresh refresh;
        refresh.hostname = "husk-0123456789ab";

        auto hello = client->hello_and_refresh(refresh, soon());

        ASSERT_TRUE(hello) << hello.error().message;
        EXPECT_EQ(hello->version, 1u);
        EXPECT_EQ(agent.names(), (std::vector<std::string> { "Hello", "Refresh" }));
        ASSERT_EQ(agent.refreshes().size(), 1u);
        EXPECT_EQ(agent.refreshes()[0].hostname, "husk-0123456789ab");
    }

    TEST(AgentClient, HelloAndRefresh_RefreshRefused_IsGuestError)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const& frame) {
            auto message = decode_message(frame, Peer::Host);
            if (message && std::holds_alternative<Refresh>(*message))
                return encode_message(0, ErrorReply { ErrorCode::Internal, "RNDADDENTROPY: Operation not permitted" });
            return greet_reply(frame);
        });
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello_and_refresh(Refresh {}, soon());

        ASSERT_FALSE(hello);
        EXPECT_EQ(hello.error().kind, ErrorKind::Guest);
        EXPECT_NE(hello.error().message.find("Refresh refused"), std::string::npos) << hello.error().message;
    }

    TEST(AgentClient, Close_AgentSeesTheEndAtOnce)
    {
        SocketPair pair;
        int agent_fd = pair.agent.get();
        auto client = client_for(std::move(pair.host));

        client->close(Error { "done", 0, ErrorKind::AgentDisconnected });

        // The client object (and its descriptor) lives on, as it does while Process handles
        // hold it; the agent must still read the end of the stream.
        pollfd fd { agent_fd, POLLIN, 0 };
        ASSERT_EQ(::poll(&fd, 1, 5000), 1);
        char byte;
        EXPECT_EQ(::read(agent_fd, &byte, 1), 0);
    }

    // A networked clone's greeting: Hello and the plain Refresh in one round trip, then the
    // network alone in a second Refresh once the Hello answer showed RefreshNetwork.
    TEST(AgentClient, HelloAndRefresh_ThenNetworkRefresh_InThatOrder)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), capability_bit(Capability::RefreshNetwork));
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello_and_refresh(Refresh { .realtime_ns = 5, .hostname = "h" }, soon());
        ASSERT_TRUE(hello) << hello.error().message;
        auto networked = client->refresh(Refresh { .network = "husk.ip=10.0.0.2/24" }, soon());

        ASSERT_TRUE(networked) << networked.error().message;
        EXPECT_EQ(agent.names(), (std::vector<std::string> { "Hello", "Refresh", "Refresh" }));
        auto refreshes = agent.refreshes();
        ASSERT_EQ(refreshes.size(), 2u);
        EXPECT_EQ(refreshes[0].hostname, "h");
        EXPECT_TRUE(refreshes[0].network.empty());
        EXPECT_EQ(refreshes[1].network, "husk.ip=10.0.0.2/24");
        EXPECT_TRUE(refreshes[1].hostname.empty());
        EXPECT_EQ(refreshes[1].realtime_ns, 0u);
    }

    TEST(AgentClient, HelloAndRefresh_ThenNetworkRefresh_OlderAgent_FailsClearlyAfterThePlainRefresh)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), capability_bit(Capability::Exec));
        auto client = client_for(std::move(pair.host));

        ASSERT_TRUE(client->hello_and_refresh(Refresh { .hostname = "h" }, soon()));
        ASSERT_EQ(agent.refreshes().size(), 1u);
        EXPECT_EQ(agent.refreshes()[0].hostname, "h");
        auto networked = client->refresh(Refresh { .network = "husk.ip=10.0.0.2/24" }, soon());

        ASSERT_FALSE(networked);
        EXPECT_EQ(networked.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(networked.error().message.find("take the snapshot again"), std::string::npos)
            << networked.error().message;
        EXPECT_EQ(agent.refreshes().size(), 1u);
    }

    TEST(AgentClient, HelloAndRefresh_WithNetwork_IsRefusedBeforeSending)
    {
        SocketPair pair;
        RecordingAgent agent(std::move(pair.agent), capability_bit(Capability::RefreshNetwork));
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello_and_refresh(Refresh { .network = "husk.ip=10.0.0.2/24" }, soon());

        ASSERT_FALSE(hello);
        EXPECT_EQ(hello.error().kind, ErrorKind::BadConfig);
        EXPECT_TRUE(agent.names().empty());
        EXPECT_TRUE(client->hello(soon()));
    }

    TEST(AgentClient, PongWithWrongNonce_IsAgentDisconnected)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return encode_message(0, Pong { 12345 }); });
        auto client = client_for(std::move(pair.host));

        auto ping = client->ping(soon());

        ASSERT_FALSE(ping);
        EXPECT_EQ(ping.error().kind, ErrorKind::AgentDisconnected);
        EXPECT_NE(ping.error().message.find("nonce"), std::string::npos);
    }

    TEST(AgentClient, HelloAnsweredWithPong_NamesTheUnexpectedReply)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return encode_message(0, Pong { 1 }); });
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello(soon());

        ASSERT_FALSE(hello);
        EXPECT_NE(hello.error().message.find("answered Hello with Pong"), std::string::npos) << hello.error().message;
    }

    TEST(AgentClient, NewerProtocolVersion_IsRejected)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return encode_message(0, HelloReply { 9, 0 }); });
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello(soon());

        ASSERT_FALSE(hello);
        EXPECT_NE(hello.error().message.find("version 9"), std::string::npos);
    }

    TEST(AgentClient, GarbageBytes_FailThePendingCallAndEveryLaterOne)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return std::vector<uint8_t>(64, 0x5a); });
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello(soon());
        auto started = std::chrono::steady_clock::now();
        auto ping = client->ping(soon());

        ASSERT_FALSE(hello);
        EXPECT_EQ(hello.error().kind, ErrorKind::AgentDisconnected);
        EXPECT_NE(hello.error().message.find("framing"), std::string::npos) << hello.error().message;
        ASSERT_FALSE(ping);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
        EXPECT_TRUE(client->failure());
    }

    TEST(AgentClient, HostOnlyMessageFromTheGuest_IsRejected)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) {
            Exec exec;
            exec.argv = { "sh" };
            return encode_message(1, exec);
        });
        auto client = client_for(std::move(pair.host));

        auto hello = client->hello(soon());

        ASSERT_FALSE(hello);
        EXPECT_NE(hello.error().message.find("invalid message"), std::string::npos) << hello.error().message;
    }

    TEST(AgentClient, UndecodablePayload_IsRejected)
    {
        SocketPair pair;
        // A Pong frame whose payload is one byte short.
        FakeAgent agent(std::move(pair.agent),
            [](Frame const&) { return encode_frame(MessageType::Pong, 0, std::vector<uint8_t>(7, 0)); });
        auto client = client_for(std::move(pair.host));

        auto ping = client->ping(soon());

        ASSERT_FALSE(ping);
        EXPECT_EQ(ping.error().kind, ErrorKind::AgentDisconnected);
    }

    TEST(AgentClient, RepliesForUnknownIds_AreIgnored)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const& frame) {
            auto noise = concat(encode_message(99, Output { OutputStream::Stdout, { 'x' } }),
                encode_message(7, Exited { ExitKind::Code, 0, false, false, 1 }));
            return concat(noise, greet_reply(frame));
        });
        auto client = client_for(std::move(pair.host));

        auto ping = client->ping(soon());

        EXPECT_TRUE(ping) << ping.error().message;
    }

    TEST(AgentClient, ConnectionLevelErrorReply_FailsTheConnection)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) {
            return encode_message(0, ErrorReply { ErrorCode::Protocol, "you broke it" });
        });
        auto client = client_for(std::move(pair.host));

        auto ping = client->ping(soon());

        ASSERT_FALSE(ping);
        EXPECT_NE(ping.error().message.find("you broke it"), std::string::npos);
    }

    TEST(AgentClient, AgentHangsUp_PendingCallFailsAtOnce)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return std::vector<uint8_t> {}; });
        auto client = client_for(std::move(pair.host));
        std::thread hang_up([&] {
            std::this_thread::sleep_for(50ms);
            agent.hang_up();
        });
        auto started = std::chrono::steady_clock::now();

        auto ping = client->ping(std::chrono::steady_clock::now() + 10s);
        hang_up.join();

        ASSERT_FALSE(ping);
        EXPECT_EQ(ping.error().kind, ErrorKind::AgentDisconnected);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    }

    TEST(AgentClient, WatchFdFires_EverythingFailsWithTheExplainedError)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return std::vector<uint8_t> {}; });
        auto vmm_died = EventFd::create();
        ASSERT_TRUE(vmm_died);
        auto client = client_for(std::move(pair.host), vmm_died->fd(), [](Error reason) {
            return Error { "VM gone: " + reason.message, 0, reason.kind };
        });
        std::thread killer([&] {
            std::this_thread::sleep_for(50ms);
            (void)vmm_died->signal();
        });

        auto ping = client->ping(std::chrono::steady_clock::now() + 10s);
        killer.join();

        ASSERT_FALSE(ping);
        EXPECT_EQ(ping.error().kind, ErrorKind::VmDied);
        EXPECT_NE(ping.error().message.find("VM gone"), std::string::npos);
    }

    TEST(AgentClient, SilentAgent_TimesOut)
    {
        SocketPair pair;
        FakeAgent agent(std::move(pair.agent), [](Frame const&) { return std::vector<uint8_t> {}; });
        auto client = client_for(std::move(pair.host));

        auto ping = client->ping(std::chrono::steady_clock::now() + 100ms);

        ASSERT_FALSE(ping);
        EXPECT_EQ(ping.error().kind, ErrorKind::Timeout);
        EXPECT_FALSE(client->failure()); // a slow reply is not a broken connection
    }

} // namespace
} // namespace husk::sdk_testing

// The hybrid-vsock handshake: reply parsing and one attempt against a fake VMM socket.
#include "sdk/src/hybrid_vsock.hpp"
#include "sdk/src/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace husk::detail {
namespace {

    using namespace std::chrono_literals;

    TEST(ParseConnectReply, OkLine_GivesThePort)
    {
        EXPECT_EQ(*parse_connect_reply("OK 1073741824\n"), 1073741824u);
        EXPECT_EQ(*parse_connect_reply("OK 0\n"), 0u);
    }

    TEST(ParseConnectReply, Malformed_IsAgentDisconnected)
    {
        for (std::string_view line : { "", "\n", "OK\n", "OK \n", "OK 12", "ok 12\n", "OK -1\n", "OK 1 2\n",
                 "OK 4294967296\n", "ERR refused\n", "OK 000000000000000000000000000001\n" }) {
            auto parsed = parse_connect_reply(line);
            ASSERT_FALSE(parsed) << line;
            EXPECT_EQ(parsed.error().kind, ErrorKind::AgentDisconnected);
        }
        EXPECT_NE(parse_connect_reply("OK \x01\n").error().message.find("'OK ?"), std::string::npos);
    }

    // A listening unix socket whose one connection is handled by `serve`.
    class FakeVmmSocket {
    public:
        explicit FakeVmmSocket(std::function<void(int)> serve)
        {
            auto dir = TempDir::create();
            EXPECT_TRUE(dir);
            m_dir.emplace(std::move(*dir));
            path = *m_dir / "v.sock";
            m_listener = Fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_un address {};
            address.sun_family = AF_UNIX;
            std::strcpy(address.sun_path, path.c_str());
            EXPECT_EQ(bind(m_listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
            EXPECT_EQ(listen(m_listener.get(), 4), 0);
            m_thread = std::thread([this, serve] {
                Fd connection(accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
                serve(connection.get());
            });
        }
        ~FakeVmmSocket() { m_thread.join(); }
        std::string path;

    private:
        std::optional<TempDir> m_dir;
        Fd m_listener;
        std::thread m_thread;
    };

    std::string read_line(int fd)
    {
        std::string line;
        char byte;
        while (read(fd, &byte, 1) == 1 && byte != '\n')
            line.push_back(byte);
        return line;
    }

    TEST(ConnectHybridVsock, OkReply_LeavesTheStreamAfterTheLine)
    {
        std::string seen;
        FakeVmmSocket vmm([&](int fd) {
            seen = read_line(fd);
            (void)!write(fd, "OK 77\nHUSK", 10);
        });
        ConnectStage stage;

        auto stream = connect_hybrid_vsock(vmm.path, 1024, std::chrono::steady_clock::now() + 5s, stage);

        ASSERT_TRUE(stream) << stream.error().message;
        char rest[4];
        ASSERT_EQ(read(stream->get(), rest, 4), 4);
        EXPECT_EQ(std::string(rest, 4), "HUSK");
        EXPECT_EQ(seen, "CONNECT 1024");
    }

    TEST(ConnectHybridVsock, ClosedBeforeReply_IsNoListener)
    {
        FakeVmmSocket vmm([](int fd) { read_line(fd); });
        ConnectStage stage;

        auto stream = connect_hybrid_vsock(vmm.path, 1024, std::chrono::steady_clock::now() + 5s, stage);

        ASSERT_FALSE(stream);
        EXPECT_EQ(stage, ConnectStage::NoListener);
    }

    TEST(ConnectHybridVsock, NoSocket_IsNoSocket)
    {
        ConnectStage stage;
        auto stream
            = connect_hybrid_vsock("/nonexistent/husk.sock", 1024, std::chrono::steady_clock::now() + 1s, stage);

        ASSERT_FALSE(stream);
        EXPECT_EQ(stage, ConnectStage::NoSocket);
    }

    TEST(ConnectHybridVsock, GarbageReply_FailsWithoutRetry)
    {
        FakeVmmSocket vmm([](int fd) {
            read_line(fd);
            (void)!write(fd, "HELLO THERE\n", 12);
        });
        ConnectStage stage;

        auto stream = connect_hybrid_vsock(vmm.path, 1024, std::chrono::steady_clock::now() + 5s, stage);

        ASSERT_FALSE(stream);
        EXPECT_EQ(stage, ConnectStage::Failed);
        EXPECT_NE(stream.error().message.find("HELLO"), std::string::npos);
    }

    TEST(ConnectHybridVsock, SilentVmm_TimesOutAtTheDeadline)
    {
        FakeVmmSocket vmm([](int fd) {
            read_line(fd);
            std::this_thread::sleep_for(300ms);
        });
        ConnectStage stage;
        auto started = std::chrono::steady_clock::now();

        auto stream = connect_hybrid_vsock(vmm.path, 1024, started + 100ms, stage);

        ASSERT_FALSE(stream);
        EXPECT_EQ(stream.error().kind, ErrorKind::GuestNotReady);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 280ms);
    }

} // namespace
} // namespace husk::detail

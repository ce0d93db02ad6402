// A scripted agent for SDK client tests: it reads the host's frames from one end of a socketpair
// and answers each with whatever bytes the test's `respond` returns, forged ones included.
#pragma once

#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"
#include "runtime/base/fd.hpp"

#include <functional>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace husk::sdk_testing {

using namespace husk::protocol;

struct SocketPair {
    Fd host;
    Fd agent;
    SocketPair()
    {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        host = Fd(fds[0]);
        agent = Fd(fds[1]);
    }
};

// Well-formed replies to Hello, Ping and Shutdown, so a fake lets a Sandbox attach and close.
inline std::vector<uint8_t> greet_reply(Frame const& frame)
{
    auto message = decode_message(frame, Peer::Host);
    if (!message)
        return {};
    if (std::holds_alternative<Hello>(*message))
        return encode_message(0, HelloReply { 1, 0 });
    if (auto* ping = std::get_if<Ping>(&*message))
        return encode_message(0, Pong { ping->nonce });
    if (std::holds_alternative<Shutdown>(*message))
        return encode_message(0, Ack {});
    return {};
}

class FakeAgent {
public:
    using Respond = std::function<std::vector<uint8_t>(Frame const&)>;

    FakeAgent(Fd fd, Respond respond)
        : m_fd(std::move(fd))
        , m_respond(std::move(respond))
    {
        m_thread = std::thread([this] { serve(); });
    }
    ~FakeAgent() { hang_up(); }

    // Closes the agent's end (the host sees EOF) and stops serving.
    void hang_up()
    {
        if (m_fd.is_valid())
            ::shutdown(m_fd.get(), SHUT_RDWR);
        if (m_thread.joinable())
            m_thread.join();
        m_fd.reset();
    }

private:
    void serve()
    {
        FrameDecoder decoder;
        uint8_t buffer[65536];
        for (;;) {
            ssize_t got = read(m_fd.get(), buffer, sizeof buffer);
            if (got <= 0)
                return;
            decoder.feed(std::span<uint8_t const>(buffer, static_cast<size_t>(got)));
            for (;;) {
                auto frame = decoder.next();
                if (!frame || !frame->has_value())
                    break;
                auto reply = m_respond(**frame);
                if (!reply.empty() && !write_all(m_fd.get(), reply.data(), reply.size()))
                    return;
            }
        }
    }

    Fd m_fd;
    Respond m_respond;
    std::thread m_thread;
};

inline std::vector<uint8_t> concat(std::vector<uint8_t> a, std::vector<uint8_t> const& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace husk::sdk_testing

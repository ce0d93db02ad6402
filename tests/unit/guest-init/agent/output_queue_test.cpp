// Tests for guest-init/agent/output_queue: partial sends keep frame order, the room hysteresis,
// and a closed peer being an error (not a SIGPIPE).
#include "guest-init/agent/output_queue.hpp"

#include "runtime/base/fd.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

namespace husk::agent {
namespace {

    struct SocketPair {
        SocketPair()
        {
            int fds[2];
            EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
            agent = Fd(fds[0]);
            host = Fd(fds[1]);
            int small = 4096;
            setsockopt(agent.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        }
        std::vector<uint8_t> drain()
        {
            std::vector<uint8_t> all;
            uint8_t buffer[65536];
            ssize_t got;
            while ((got = recv(host.get(), buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
                all.insert(all.end(), buffer, buffer + got);
            return all;
        }
        Fd agent;
        Fd host;
    };

    TEST(OutputQueue, PartialSends_DeliverAllBytesInOrder)
    {
        SocketPair pair;
        OutputQueue queue(1 << 20);
        std::vector<uint8_t> expected;
        for (int frame = 0; frame < 40; ++frame) {
            std::vector<uint8_t> bytes(1000 + frame, static_cast<uint8_t>(frame));
            expected.insert(expected.end(), bytes.begin(), bytes.end());
            queue.push(std::move(bytes));
        }

        std::vector<uint8_t> received;
        int rounds = 0;
        for (; !queue.is_empty() && rounds < 1000; ++rounds) {
            ASSERT_TRUE(queue.flush(pair.agent.get()));
            auto got = pair.drain();
            received.insert(received.end(), got.begin(), got.end());
        }
        auto rest = pair.drain();
        received.insert(received.end(), rest.begin(), rest.end());

        EXPECT_GT(rounds, 1); // the small send buffer forced partial sends
        EXPECT_EQ(received, expected);
        EXPECT_EQ(queue.size(), 0u);
    }

    TEST(OutputQueue, Room_IsFullAtTheLimitAndAvailableAgainAtHalf)
    {
        SocketPair pair;
        OutputQueue queue(10'000);

        queue.push(std::vector<uint8_t>(6000));
        EXPECT_EQ(queue.room(), OutputQueue::Room::Available);
        queue.push(std::vector<uint8_t>(4000));
        EXPECT_EQ(queue.room(), OutputQueue::Room::Full);

        // Send 4000-ish bytes at a time until the queue is at or below half.
        while (queue.size() > 5000) {
            ASSERT_TRUE(queue.flush(pair.agent.get()));
            if (queue.size() > 5000) {
                EXPECT_EQ(queue.room(), OutputQueue::Room::Full);
            }
            pair.drain();
        }
        EXPECT_EQ(queue.room(), OutputQueue::Room::Available);
    }

    TEST(OutputQueue, ClosedPeer_IsAnError)
    {
        SocketPair pair;
        OutputQueue queue(1000);
        queue.push(std::vector<uint8_t>(10, 1));
        pair.host.reset();

        auto flushed = queue.flush(pair.agent.get());

        ASSERT_FALSE(flushed);
        EXPECT_EQ(flushed.error().errno_value, EPIPE);
    }

} // namespace
} // namespace husk::agent

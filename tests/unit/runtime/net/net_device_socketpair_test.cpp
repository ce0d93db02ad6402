// NetDevice on the real UringNetBackend and io_uring loop, with a SOCK_SEQPACKET socketpair
// standing in for the tap (it keeps frame boundaries as a tap does; the test's end plays the
// host network, writing and reading header + frame). The MockDriver plays Linux's virtio-net.
// Covers frames both ways, a receive that waits (in a poll) until a frame arrives,
// frames that arrived before the guest posted any buffer (the lost wakeup), and a long run of
// frames in order.
#include "runtime/net/uring_net_backend.hpp"
#include "tests/unit/runtime/net/net_device_rig.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;
namespace net = husk::virtio::net;

namespace {

constexpr uint64_t features
    = ~(virtio::feature_mask(net::feature::guest_tso4) | virtio::feature_mask(net::feature::guest_tso6));

std::vector<uint8_t> packet(size_t frame_length, uint8_t seed)
{
    std::vector<uint8_t> bytes(net::header_size + frame_length, 0);
    for (size_t i = net::header_size; i < bytes.size(); ++i)
        bytes[i] = static_cast<uint8_t>(seed + i);
    return bytes;
}

class NetSocketpairTest : public husk::testing::NetDeviceRig<UringNetBackend> {
protected:
    void SetUp() override
    {
        start(
            SOCK_SEQPACKET, net_backend_opcodes(),
            [this](EventLoop& loop, int device_fd) {
                return UringNetBackend::create(loop, device_fd, [this](RxOffloads offloads) {
                    offloads_set.push_back(offloads);
                    return Result<void> {};
                });
            },
            device_config(NetOffloads::Offered), features);
    }
    void send_tx(std::vector<uint8_t> const& bytes) { queue_tx(bytes); }
    std::vector<uint8_t> read_host_end()
    {
        pollfd readable { peer_end.get(), POLLIN, 0 };
        if (::poll(&readable, 1, 2000) != 1)
            return {};
        std::vector<uint8_t> bytes(70000);
        auto count = ::recv(peer_end.get(), bytes.data(), bytes.size(), 0);
        bytes.resize(count < 0 ? 0 : static_cast<size_t>(count));
        return bytes;
    }
    void write_host_end(std::vector<uint8_t> const& bytes)
    {
        ASSERT_EQ(::send(peer_end.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    }

    std::vector<RxOffloads> offloads_set;
};

} // namespace

TEST_F(NetSocketpairTest, UringNetBackend_GuestFrame_ReachesTheHostEndWithItsHeader)
{
    auto bytes = packet(60, 3);
    send_tx(bytes);
    driver->kick(NetDevice::tx_queue);
    std::vector<virtio::ring::UsedElement> used;
    ASSERT_TRUE(run_until([&] {
        auto more = drain_used(NetDevice::tx_queue);
        used.insert(used.end(), more.begin(), more.end());
        return !used.empty();
    }));
    EXPECT_EQ(used[0].length, 0u);
    EXPECT_EQ(read_host_end(), bytes);
    EXPECT_EQ(device->stats().tx_frames, 1u);
}

TEST_F(NetSocketpairTest, UringNetBackend_ReceiveWaitsForAFrame_ThenFillsTheGuestBuffer)
{
    auto rx = post_rx();
    EXPECT_EQ(offloads_set.size(), 1u);
    EXPECT_EQ(offloads_set[0], (RxOffloads { true, false, false }));
    // Nothing to read yet: the backend waits in a poll, not in a read.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(loop->run_once(10ms));
    EXPECT_TRUE(drain_used(NetDevice::rx_queue).empty());
    EXPECT_TRUE(backend->is_receiving());

    auto bytes = packet(200, 9);
    write_host_end(bytes);
    std::vector<virtio::ring::UsedElement> used;
    ASSERT_TRUE(run_until([&] {
        used = drain_used(NetDevice::rx_queue);
        return !used.empty();
    }));
    EXPECT_EQ(used[0].length, bytes.size());
    auto landed = harness->bytes_at(rx.address, bytes.size());
    ASSERT_TRUE(landed);
    auto expected = bytes;
    expected[offsetof(net::Header, num_buffers)] = 1; // the device's num_buffers
    EXPECT_EQ(*landed, expected);
}

TEST_F(NetSocketpairTest, UringNetBackend_FramesBeforeAnyBuffer_DeliveredWhenTheGuestPostsBuffers)
{
    driver->kick(NetDevice::rx_queue); // the driver comes up with an empty ring
    for (uint8_t seed = 0; seed < 3; ++seed)
        write_host_end(packet(100 + seed, seed));
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(loop->run_once(10ms));
    EXPECT_FALSE(backend->is_receiving()); // no buffers: nothing may be read

    std::vector<MockBuffer> buffers;
    for (int i = 0; i < 3; ++i)
        buffers.push_back(post_rx(false));
    driver->kick(NetDevice::rx_queue); // the re-drain a lost-wakeup bug would miss
    std::vector<virtio::ring::UsedElement> used;
    ASSERT_TRUE(run_until([&] {
        auto more = drain_used(NetDevice::rx_queue);
        used.insert(used.end(), more.begin(), more.end());
        return used.size() == 3;
    }));
    for (uint8_t seed = 0; seed < 3; ++seed)
        EXPECT_EQ(used[seed].length, net::header_size + 100 + seed);
}

TEST_F(NetSocketpairTest, UringNetBackend_ManyFramesBothWays_AllArriveInOrder)
{
    constexpr int rounds = 6;
    constexpr int per_round = 40; // under the queue size: descriptors are reused between rounds
    for (int round = 0; round < rounds; ++round) {
        for (int i = 0; i < per_round; ++i)
            send_tx(packet(64 + i, static_cast<uint8_t>(round * per_round + i)));
        driver->kick(NetDevice::tx_queue);
        size_t completed = 0;
        ASSERT_TRUE(run_until([&] {
            completed += drain_used(NetDevice::tx_queue).size();
            return completed == per_round;
        }));
        for (int i = 0; i < per_round; ++i)
            ASSERT_EQ(read_host_end(), packet(64 + i, static_cast<uint8_t>(round * per_round + i)));

        for (int i = 0; i < per_round; ++i)
            post_rx(false);
        driver->kick(NetDevice::rx_queue);
        for (int i = 0; i < per_round; ++i)
            write_host_end(packet(500 + i, static_cast<uint8_t>(i)));
        size_t received = 0;
        ASSERT_TRUE(run_until([&] {
            for (auto const& used : drain_used(NetDevice::rx_queue))
                EXPECT_EQ(used.length, net::header_size + 500 + received++);
            return received == per_round;
        }));
    }
    EXPECT_EQ(device->stats().tx_frames, uint64_t { rounds * per_round });
    EXPECT_EQ(device->stats().rx_frames, uint64_t { rounds * per_round });
}

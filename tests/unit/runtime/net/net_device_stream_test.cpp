// NetDevice on the real StreamNetBackend and io_uring loop over a SOCK_STREAM socketpair: the
// test's end plays passt, reading and writing 4-byte big-endian lengths and plain frames. The
// MockDriver plays Linux's virtio-net. Covers: no offloads offered, frames both ways, frames
// split across writes and several in one, a frame larger than the guest's buffers, a zero or
// oversized length, a peer that closes, a long run in order through a small socket buffer
// (partial writes), and only whole frames in a full socket buffer.
#include "runtime/net/stream_net_backend.hpp"
#include "tests/unit/runtime/net/net_device_rig.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;
namespace net = husk::virtio::net;

namespace {

std::vector<uint8_t> frame(size_t length, uint8_t seed)
{
    std::vector<uint8_t> bytes(length);
    for (size_t i = 0; i < length; ++i)
        bytes[i] = static_cast<uint8_t>(seed + i);
    return bytes;
}

std::vector<uint8_t> prefixed(uint32_t declared, std::vector<uint8_t> const& body)
{
    std::vector<uint8_t> bytes { static_cast<uint8_t>(declared >> 24), static_cast<uint8_t>(declared >> 16),
        static_cast<uint8_t>(declared >> 8), static_cast<uint8_t>(declared) };
    bytes.insert(bytes.end(), body.begin(), body.end());
    return bytes;
}

std::vector<uint8_t> prefixed(std::vector<uint8_t> const& body)
{
    return prefixed(static_cast<uint32_t>(body.size()), body);
}

class NetStreamTest : public husk::testing::NetDeviceRig<StreamNetBackend> {
protected:
    void SetUp() override
    {
        start(
            SOCK_STREAM, net_stream_backend_opcodes(),
            [](EventLoop& loop, int device_fd) { return StreamNetBackend::create(loop, device_fd); },
            device_config(NetOffloads::None), ~uint64_t { 0 });
    }
    void run_a_while()
    {
        for (int i = 0; i < 5; ++i)
            ASSERT_TRUE(loop->run_once(5ms));
    }
    void send_tx(std::vector<uint8_t> const& body)
    {
        std::vector<uint8_t> bytes(net::header_size, 0);
        bytes.insert(bytes.end(), body.begin(), body.end());
        queue_tx(bytes);
    }
    // Exactly `count` bytes from the peer's end (what the device wrote), or fewer on timeout.
    std::vector<uint8_t> read_peer(size_t count)
    {
        std::vector<uint8_t> bytes;
        while (bytes.size() < count) {
            pollfd readable { peer_end.get(), POLLIN, 0 };
            if (::poll(&readable, 1, 0) != 1) {
                if (!loop->run_once(5ms) || ++idle > 400)
                    break;
                continue;
            }
            std::vector<uint8_t> chunk(count - bytes.size());
            auto got = ::recv(peer_end.get(), chunk.data(), chunk.size(), 0);
            if (got <= 0)
                break;
            bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
        }
        return bytes;
    }
    void write_peer(std::vector<uint8_t> const& bytes)
    {
        ASSERT_EQ(::send(peer_end.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    }
    std::vector<virtio::ring::UsedElement> wait_used(uint16_t queue, size_t count)
    {
        std::vector<virtio::ring::UsedElement> used;
        EXPECT_TRUE(run_until([&] {
            auto more = drain_used(queue);
            used.insert(used.end(), more.begin(), more.end());
            return used.size() >= count;
        })) << "only " << used.size() << " of " << count;
        return used;
    }
    // What the guest finds in a receive buffer: a zeroed header with num_buffers 1, the frame.
    static std::vector<uint8_t> as_received(std::vector<uint8_t> const& body)
    {
        std::vector<uint8_t> bytes(net::header_size, 0);
        bytes[offsetof(net::Header, num_buffers)] = 1;
        bytes.insert(bytes.end(), body.begin(), body.end());
        return bytes;
    }

    int idle { 0 };
};

} // namespace

TEST_F(NetStreamTest, NetDevice_WithoutOffloads_OffersNoChecksumOrSegmentation)
{
    auto features = device->features();
    for (auto bit : { net::feature::csum, net::feature::guest_csum, net::feature::host_tso4, net::feature::host_tso6,
             net::feature::guest_tso4, net::feature::guest_tso6 })
        EXPECT_FALSE(virtio::has_feature(features, bit)) << "feature bit " << bit;
    EXPECT_TRUE(virtio::has_feature(features, net::feature::mrg_rxbuf));
    EXPECT_TRUE(virtio::has_feature(features, net::feature::mac));
}

TEST_F(NetStreamTest, StreamNetBackend_ReceiveOffloads_Refused)
{
    EXPECT_FALSE(backend->set_receive_offloads(RxOffloads { true, false, false }));
    EXPECT_TRUE(backend->set_receive_offloads(RxOffloads {}));
}

TEST_F(NetStreamTest, StreamNetBackend_GuestFrame_ReachesThePeerBehindItsLength)
{
    auto body = frame(60, 3);
    send_tx(body);
    driver->kick(NetDevice::tx_queue);
    auto used = wait_used(NetDevice::tx_queue, 1);
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].length, 0u);
    EXPECT_EQ(read_peer(4 + 60), prefixed(body));
    EXPECT_EQ(device->stats().tx_frames, 1u);
    EXPECT_EQ(device->stats().tx_bytes, 60u);
}

TEST_F(NetStreamTest, StreamNetBackend_PeerFrameInPieces_ReachesTheGuestWhole)
{
    auto rx = post_rx();
    run_a_while();
    EXPECT_TRUE(backend->is_receiving());
    auto body = frame(300, 9);
    auto bytes = prefixed(body);
    // The length split in two, then the frame in three pieces, with the loop running between.
    for (auto [from, to] : { std::pair<size_t, size_t> { 0, 2 }, { 2, 5 }, { 5, 100 }, { 100, bytes.size() } }) {
        EXPECT_TRUE(drain_used(NetDevice::rx_queue).empty());
        write_peer(std::vector<uint8_t>(bytes.begin() + static_cast<ptrdiff_t>(from), bytes.begin() + static_cast<ptrdiff_t>(to)));
        run_a_while();
    }
    auto used = wait_used(NetDevice::rx_queue, 1);
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].length, net::header_size + body.size());
    auto landed = harness->bytes_at(rx.address, net::header_size + body.size());
    ASSERT_TRUE(landed);
    EXPECT_EQ(*landed, as_received(body));
}

TEST_F(NetStreamTest, StreamNetBackend_SeveralFramesInOneWrite_EachReachesTheGuestInOrder)
{
    std::vector<MockBuffer> buffers;
    for (int i = 0; i < 4; ++i)
        buffers.push_back(post_rx(false));
    driver->kick(NetDevice::rx_queue);
    std::vector<uint8_t> stream;
    for (int i = 0; i < 4; ++i) {
        auto bytes = prefixed(frame(100 + static_cast<size_t>(i), static_cast<uint8_t>(i)));
        stream.insert(stream.end(), bytes.begin(), bytes.end());
    }
    write_peer(stream);
    auto used = wait_used(NetDevice::rx_queue, 4);
    ASSERT_EQ(used.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(used[i].length, net::header_size + 100 + i);
        EXPECT_EQ(*harness->bytes_at(buffers[i].address, used[i].length),
            as_received(frame(100 + i, static_cast<uint8_t>(i))));
    }
}

TEST_F(NetStreamTest, StreamNetBackend_FramesBeforeAnyBuffer_WaitInTheSocket)
{
    driver->kick(NetDevice::rx_queue); // an empty ring
    for (uint8_t seed = 0; seed < 3; ++seed)
        write_peer(prefixed(frame(100 + seed, seed)));
    run_a_while();
    EXPECT_FALSE(backend->is_receiving());
    for (int i = 0; i < 3; ++i)
        post_rx(false);
    driver->kick(NetDevice::rx_queue);
    auto used = wait_used(NetDevice::rx_queue, 3);
    ASSERT_EQ(used.size(), 3u);
    for (uint8_t seed = 0; seed < 3; ++seed)
        EXPECT_EQ(used[seed].length, net::header_size + 100 + seed);
}

TEST_F(NetStreamTest, StreamNetBackend_FrameLargerThanTheGuestBuffers_DroppedAndTheNextOneDelivered)
{
    // Without TSO the device gathers buffers for one 1500-byte MTU frame; this one is larger.
    for (int i = 0; i < 4; ++i)
        post_rx(false);
    driver->kick(NetDevice::rx_queue);
    auto big = frame(9000, 1);
    auto small = frame(80, 2);
    auto stream = prefixed(big);
    auto next = prefixed(small);
    stream.insert(stream.end(), next.begin(), next.end());
    write_peer(stream);
    auto used = wait_used(NetDevice::rx_queue, 1);
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].length, net::header_size + small.size());
    EXPECT_EQ(device->stats().rx_truncated, 1u);
    EXPECT_EQ(device->stats().rx_frames, 1u);
    EXPECT_FALSE(backend->is_link_down());
}

TEST_F(NetStreamTest, StreamNetBackend_ZeroLength_TakesTheLinkDownOnce)
{
    post_rx();
    write_peer(prefixed(0, {}));
    ASSERT_TRUE(run_until([&] { return backend->is_link_down(); }));
    run_a_while();
    EXPECT_EQ(device->stats().rx_errors, 1u);
    // The device's retry finds the link down: it waits, it does not spin or report again.
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(loop->run_once(5ms));
    EXPECT_EQ(device->stats().rx_errors, 1u);
    EXPECT_TRUE(drain_used(NetDevice::rx_queue).empty());
}

TEST_F(NetStreamTest, StreamNetBackend_LengthAboveTheLargestFrame_TakesTheLinkDown)
{
    post_rx();
    write_peer(prefixed(net::max_frame_size + 1, frame(64, 0)));
    ASSERT_TRUE(run_until([&] { return backend->is_link_down(); }));
    run_a_while();
    EXPECT_EQ(device->stats().rx_errors, 1u);
    // Transmits now fail (their chains still come back to the guest).
    send_tx(frame(60, 1));
    driver->kick(NetDevice::tx_queue);
    auto used = wait_used(NetDevice::tx_queue, 1);
    EXPECT_EQ(used.size(), 1u);
    EXPECT_EQ(device->stats().tx_errors, 1u);
    EXPECT_EQ(device->stats().tx_frames, 0u);
}

TEST_F(NetStreamTest, StreamNetBackend_PeerCloses_LinkDownAndTransmitsComeBack)
{
    post_rx();
    run_a_while();
    peer_end.reset();
    ASSERT_TRUE(run_until([&] { return backend->is_link_down(); }));
    run_a_while();
    EXPECT_EQ(device->stats().rx_errors, 1u);
    for (int i = 0; i < 3; ++i)
        send_tx(frame(60, static_cast<uint8_t>(i)));
    driver->kick(NetDevice::tx_queue);
    auto used = wait_used(NetDevice::tx_queue, 3);
    EXPECT_EQ(used.size(), 3u);
    EXPECT_EQ(device->stats().tx_errors, 3u);
    for (int i = 0; i < 10; ++i)
        ASSERT_TRUE(loop->run_once(5ms));
    EXPECT_EQ(device->stats().rx_errors, 1u); // reported once, no retry storm
}

TEST_F(NetStreamTest, StreamNetBackend_ManyFramesThroughASmallSocketBuffer_AllArriveInOrder)
{
    int small = 4096;
    ASSERT_EQ(::setsockopt(device_end.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    constexpr int count = 60;
    for (int i = 0; i < count; ++i)
        send_tx(frame(1000 + static_cast<size_t>(i), static_cast<uint8_t>(i)));
    driver->kick(NetDevice::tx_queue);
    // The peer reads slowly; the backend's writes end mid-frame and go on later.
    for (int i = 0; i < count; ++i) {
        auto body = frame(1000 + static_cast<size_t>(i), static_cast<uint8_t>(i));
        ASSERT_EQ(read_peer(4 + body.size()), prefixed(body)) << "frame " << i;
    }
    auto used = wait_used(NetDevice::tx_queue, count);
    EXPECT_EQ(used.size(), size_t { count });
    EXPECT_EQ(device->stats().tx_frames, uint64_t { count });
    EXPECT_EQ(device->stats().tx_errors, 0u);
}

// With the socket buffer full, the peer finds only whole frames in it: every write is at most a
// socket buffer's worth, so the kernel takes it whole or not at all (bookworm's passt loses the
// stream when a read ends inside a length prefix).
TEST_F(NetStreamTest, StreamNetBackend_SocketBufferFull_HoldsOnlyWholeFrames)
{
    // 66 KB once the kernel doubles it: an skb still takes a 32 KiB write (up to half of it),
    // and two of them fill it, less than the 90 KB queued below.
    int buffer = 33000;
    ASSERT_EQ(::setsockopt(device_end.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer), 0);
    constexpr int count = 60;
    constexpr size_t length = 1500;
    for (int i = 0; i < count; ++i)
        send_tx(frame(length, static_cast<uint8_t>(i)));
    driver->kick(NetDevice::tx_queue);
    // Until the socket holds all it takes: the same count of bytes over 20 turns of the loop.
    int queued = 0;
    for (int steady = 0, turns = 0; steady < 20 && turns < 400; ++turns) {
        ASSERT_TRUE(loop->run_once(5ms));
        int now = 0;
        ASSERT_EQ(::ioctl(peer_end.get(), FIONREAD, &now), 0);
        steady = now == queued && now > 0 ? steady + 1 : 0;
        queued = now;
    }
    ASSERT_GT(queued, 0);
    EXPECT_LT(queued, count * static_cast<int>(4 + length)) << "the socket took everything: nothing was tested";
    EXPECT_EQ(queued % static_cast<int>(4 + length), 0) << queued << " bytes end inside a frame";
    for (int i = 0; i < count; ++i) {
        auto body = frame(length, static_cast<uint8_t>(i));
        ASSERT_EQ(read_peer(4 + body.size()), prefixed(body)) << "frame " << i;
    }
    EXPECT_EQ(wait_used(NetDevice::tx_queue, count).size(), size_t { count });
}

TEST_F(NetStreamTest, StreamNetBackend_DestroyedWithAReceivePending_NothingRunsAfterwards)
{
    post_rx();
    run_a_while();
    ASSERT_TRUE(backend->is_receiving());
    harness.reset();
    device.reset();
    backend.reset();
    write_peer(prefixed(frame(64, 1)));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(loop->run_once(5ms));
}

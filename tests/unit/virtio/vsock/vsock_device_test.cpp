// VsockDevice end to end: MockDriver negotiates through MmioTransport, posts TX packets and RX
// buffers, kicks, and reads back used entries and guest memory; a fake backend stands in for the
// host. Covers identity and config, connects both ways, a data round trip with exact used
// lengths, RX refill when the guest posts buffers late, and malformed guest buffers.
#include "virtio/vsock/vsock_device.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"
#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;
using husk::testing::FakeVsockBackend;
namespace ring = husk::virtio::ring;

namespace {

constexpr uint64_t guest_cid = 5;
constexpr std::array<uint16_t, 3> queue_sizes { 64, 64, 64 };
constexpr VsockConnectionKey key { 3000, 1024 };

class VsockDeviceTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override
    {
        attach(device, 0x200000);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(driver->start(0, queue_sizes));
    }

    VsockPacketHeader header(vsock::Op op, uint32_t length = 0)
    {
        VsockPacketHeader header {};
        header.src_cid = guest_cid;
        header.dst_cid = vsock::host_cid;
        header.src_port = key.guest_port;
        header.dst_port = key.host_port;
        header.len = length;
        header.type = vsock::type_stream;
        header.op = static_cast<uint16_t>(op);
        header.buf_alloc = 64 * 1024;
        return header;
    }
    // Posts a TX packet the way Linux does: header and payload in separate descriptors.
    void transmit(VsockPacketHeader const& packet, std::string const& payload = {})
    {
        auto header_address = driver->allocate(sizeof packet);
        ASSERT_TRUE(header_address);
        ASSERT_TRUE(memory->write_obj(*header_address, packet));
        std::vector<MockBuffer> buffers { { *header_address, sizeof packet, BufferAccess::DeviceReadable } };
        if (!payload.empty()) {
            auto payload_address = driver->allocate(payload.size());
            ASSERT_TRUE(payload_address);
            ASSERT_TRUE(memory->write(
                *payload_address, std::span(reinterpret_cast<uint8_t const*>(payload.data()), payload.size())));
            buffers.push_back(
                { *payload_address, static_cast<uint32_t>(payload.size()), BufferAccess::DeviceReadable });
        }
        ASSERT_TRUE(driver->queue(VsockDevice::tx_queue).add_chain(buffers));
        driver->kick(VsockDevice::tx_queue);
    }
    // Posts an RX buffer: a header descriptor and a payload descriptor, like Linux 6.1.
    GuestAddress post_rx(uint32_t payload_room = 4096, uint32_t header_room = vsock_header_size)
    {
        auto address = driver->allocate(header_room + payload_room);
        EXPECT_TRUE(address);
        std::vector<MockBuffer> buffers { { *address, header_room, BufferAccess::DeviceWritable } };
        if (payload_room > 0)
            buffers.push_back({ address->unchecked_add(header_room), payload_room, BufferAccess::DeviceWritable });
        EXPECT_TRUE(driver->queue(VsockDevice::rx_queue).add_chain(buffers));
        return *address;
    }
    struct Received {
        ring::UsedElement used;
        alignas(8) VsockPacketHeader header; // fields naturally aligned: gtest binds references
        std::string payload;
    };
    std::optional<Received> receive(GuestAddress buffer)
    {
        auto used = driver->queue(VsockDevice::rx_queue).pop_used();
        EXPECT_TRUE(used);
        if (!used || !*used)
            return std::nullopt;
        Received received { **used, {}, {} };
        auto read_header = memory->read_obj<VsockPacketHeader>(buffer);
        EXPECT_TRUE(read_header);
        received.header = *read_header;
        std::string payload(received.header.len, '\0');
        EXPECT_TRUE(memory->read(buffer.unchecked_add(vsock_header_size),
            std::span(reinterpret_cast<uint8_t*>(payload.data()), payload.size())));
        received.payload = payload;
        return received;
    }
    void establish()
    {
        auto buffer = post_rx();
        transmit(header(vsock::Op::Request));
        auto response = receive(buffer);
        ASSERT_TRUE(response);
        ASSERT_EQ(response->header.op, static_cast<uint16_t>(vsock::Op::Response));
    }

    FakeVsockBackend backend;
    VsockDevice device { guest_cid, backend };
};

TEST_F(VsockDeviceTest, Identity_IsSocketDeviceWithThreeQueuesVersion1AndEventIdx)
{
    EXPECT_EQ(driver->read_register(virtio::mmio::device_id), 19u);
    EXPECT_EQ(driver->device_features(),
        virtio::feature_mask(virtio::feature::version_1) | virtio::feature_mask(virtio::feature::event_idx));
    driver->write_register(virtio::mmio::queue_sel, 3);
    EXPECT_EQ(driver->read_register(virtio::mmio::queue_num_max), 0u);
    EXPECT_EQ(backend.events, &device);
}

TEST_F(VsockDeviceTest, Config_GuestCid_IsReadableAsLe64)
{
    EXPECT_EQ(driver->read_register(virtio::mmio::config), guest_cid);
    EXPECT_EQ(driver->read_register(virtio::mmio::config + 4), 0u);
}

TEST_F(VsockDeviceTest, GuestRequest_SeesResponseWithExactUsedLength)
{
    auto buffer = post_rx();

    transmit(header(vsock::Op::Request));

    auto tx_used = driver->queue(VsockDevice::tx_queue).pop_used();
    ASSERT_TRUE(tx_used && *tx_used);
    EXPECT_EQ((*tx_used)->length, 0u); // the device writes nothing into TX buffers
    auto response = receive(buffer);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->used.length, vsock_header_size);
    EXPECT_EQ(response->header.op, static_cast<uint16_t>(vsock::Op::Response));
    EXPECT_EQ(response->header.src_cid, vsock::host_cid);
    EXPECT_EQ(response->header.dst_cid, guest_cid);
    EXPECT_EQ(response->header.src_port, key.host_port);
    EXPECT_EQ(response->header.dst_port, key.guest_port);
    ASSERT_EQ(backend.opened.size(), 1u);
    EXPECT_EQ(backend.opened[0], key);
    EXPECT_GE(trigger->count(), 1u);
}

TEST_F(VsockDeviceTest, DataRoundTrip_ReachesBackendAndComesBack)
{
    establish();

    transmit(header(vsock::Op::Rw, 4), "ping");
    backend.host_data[key] = "pong!";
    auto buffer = post_rx();
    driver->kick(VsockDevice::rx_queue);
    backend.events->on_host_readable(key);

    EXPECT_EQ(backend.written[key], "ping");
    auto reply = receive(buffer);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->used.length, vsock_header_size + 5);
    EXPECT_EQ(reply->header.op, static_cast<uint16_t>(vsock::Op::Rw));
    EXPECT_EQ(reply->payload, "pong!");
}

TEST_F(VsockDeviceTest, HostConnect_GuestSeesRequest)
{
    auto buffer = post_rx();
    driver->kick(VsockDevice::rx_queue);

    auto connected = backend.events->on_host_connect(1234);

    ASSERT_TRUE(connected);
    auto request = receive(buffer);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->header.op, static_cast<uint16_t>(vsock::Op::Request));
    EXPECT_EQ(request->header.dst_port, 1234u);
    EXPECT_EQ(request->header.src_port, connected->host_port);
}

TEST_F(VsockDeviceTest, HostDataWithoutRxBuffers_IsDeliveredOnceGuestPostsOne)
{
    establish();
    backend.host_data[key] = "queued";
    backend.events->on_host_readable(key);
    EXPECT_EQ(backend.reads, 0u); // nowhere to put it yet

    auto buffer = post_rx();
    driver->kick(VsockDevice::rx_queue);

    auto data = receive(buffer);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->payload, "queued");
}

TEST_F(VsockDeviceTest, RxBufferSmallerThanHeader_IsReturnedEmptyAndNextOneUsed)
{
    auto small = post_rx(0, 16);
    auto good = post_rx();

    transmit(header(vsock::Op::Request));

    auto first = driver->queue(VsockDevice::rx_queue).pop_used();
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->length, 0u);
    (void)small;
    auto second = receive(good);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->header.op, static_cast<uint16_t>(vsock::Op::Response));
    EXPECT_EQ(device.stats().rx_buffers_too_small, 1u);
}

TEST_F(VsockDeviceTest, RxBufferWithOnlyHeaderRoom_CarriesControlPackets)
{
    establish();
    auto header_only = post_rx(0);
    driver->kick(VsockDevice::rx_queue);

    transmit(header(vsock::Op::CreditRequest));

    auto update = receive(header_only);
    ASSERT_TRUE(update);
    EXPECT_EQ(update->header.op, static_cast<uint16_t>(vsock::Op::CreditUpdate));
    EXPECT_EQ(update->used.length, vsock_header_size);
}

TEST_F(VsockDeviceTest, RxBufferWithOnlyHeaderRoom_IsReturnedEmptyWhenOnlyDataWaits)
{
    establish();
    post_rx(0);
    auto roomy = post_rx();
    backend.host_data[key] = "data";

    backend.events->on_host_readable(key);

    auto first = driver->queue(VsockDevice::rx_queue).pop_used();
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->length, 0u); // not held: it would block the roomy buffer behind it
    auto data = receive(roomy);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->payload, "data");
}

TEST_F(VsockDeviceTest, ShortTxPacket_IsCompletedAndIgnored)
{
    auto address = driver->allocate(20);
    ASSERT_TRUE(address);
    MockBuffer buffers[] = { { *address, 20, BufferAccess::DeviceReadable } };
    ASSERT_TRUE(driver->queue(VsockDevice::tx_queue).add_chain(buffers));
    post_rx();

    driver->kick(VsockDevice::tx_queue);

    auto used = driver->queue(VsockDevice::tx_queue).pop_used();
    ASSERT_TRUE(used && *used);
    EXPECT_EQ((*used)->length, 0u);
    EXPECT_FALSE(*driver->queue(VsockDevice::rx_queue).pop_used());
    EXPECT_EQ(device.stats().tx_malformed, 1u);
    EXPECT_EQ(driver->status() & virtio::status::device_needs_reset, 0u);
}

TEST_F(VsockDeviceTest, TxPayloadBeyondChain_ResetsThatConnection)
{
    establish();
    auto buffer = post_rx();

    transmit(header(vsock::Op::Rw, 100), "only ten b");

    auto reset = receive(buffer);
    ASSERT_TRUE(reset);
    EXPECT_EQ(reset->header.op, static_cast<uint16_t>(vsock::Op::Rst));
    EXPECT_TRUE(backend.was_closed(key));
    EXPECT_TRUE(backend.written[key].empty());
}

TEST_F(VsockDeviceTest, DriverReset_HostEndsClosedOnNextEventThreadCall)
{
    establish();

    driver->reset(); // on a vCPU thread in the VMM: the backend must not be called here

    EXPECT_FALSE(backend.was_closed(key));
    EXPECT_EQ(device.connection_count(), 0u);
    EXPECT_FALSE(backend.events->on_host_connect(1234)); // no driver: refused
    EXPECT_TRUE(backend.was_closed(key)); // and the leftover host end is closed
}

TEST_F(VsockDeviceTest, InactiveDevice_RefusesHostConnectsAndDetachesOnDestruction)
{
    FakeVsockBackend other_backend;
    {
        VsockDevice other(guest_cid, other_backend);
        ASSERT_EQ(other_backend.events, &other);

        EXPECT_FALSE(other_backend.events->on_host_connect(1)); // no driver yet
    }
    EXPECT_EQ(other_backend.events, nullptr);
}

} // namespace

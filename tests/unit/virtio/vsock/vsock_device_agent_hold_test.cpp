// VsockDevice's cold-boot hold: host connects made before husk-init's agent listens are taken,
// held (also before the guest's driver exists, and across its reset) and sent in order when the
// hold ends (the agent's report or the VMM's bound); a bounded number of them; then connects go
// to the guest at once. Also what a hostile guest can do meanwhile.
#include "virtio/vsock/vsock_device.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"
#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"
#include "tests/unit/virtio/vsock/guest_packet_header.hpp"

#include <array>
#include <gtest/gtest.h>
#include <map>
#include <vector>

using namespace husk;
using husk::testing::FakeVsockBackend;

namespace {

constexpr uint64_t hold_guest_cid = 5;
constexpr std::array<uint16_t, 3> hold_queue_sizes { 64, 64, 8 };
constexpr size_t max_held = 3;

class VsockDeviceAgentHoldTest : public husk::testing::DeviceTest {
protected:
    // The driver starts only when a test asks: a cold boot's first connects come before it.
    void SetUp() override
    {
        attach(device, 0x200000);
        if (HasFatalFailure())
            return;
        device.hold_host_connects_until_agent_listens();
    }
    void start_driver() { ASSERT_TRUE(driver->start(0, hold_queue_sizes)); }
    // Posts one RX buffer; the guest's view of what lands there comes from received().
    GuestAddress post_rx()
    {
        auto address = driver->allocate(vsock_header_size + 256);
        EXPECT_TRUE(address);
        MockBuffer chain[] = { { *address, vsock_header_size + 256, BufferAccess::DeviceWritable } };
        auto head = driver->queue(VsockDevice::rx_queue).add_chain(chain);
        EXPECT_TRUE(head);
        m_rx_buffers[*head] = *address;
        return *address;
    }
    // The packets the guest received since the last call, in order.
    std::vector<VsockPacketHeader> received()
    {
        std::vector<VsockPacketHeader> packets;
        while (auto used = next_used(VsockDevice::rx_queue)) {
            if (used->length == 0)
                continue; // returned empty
            auto header = memory->read_obj<VsockPacketHeader>(m_rx_buffers.at(static_cast<uint16_t>(used->id)));
            EXPECT_TRUE(header);
            if (header)
                packets.push_back(*header);
        }
        return packets;
    }
    // A header-only packet from the guest on `key`'s connection, as its driver sends it.
    void transmit(vsock::Op op, VsockConnectionKey key)
    {
        auto address = driver->allocate(vsock_header_size);
        ASSERT_TRUE(address);
        ASSERT_TRUE(memory->write_obj(*address, husk::testing::guest_packet_header(hold_guest_cid, key, op, 4096)));
        MockBuffer chain[] = { { *address, vsock_header_size, BufferAccess::DeviceReadable } };
        ASSERT_TRUE(driver->queue(VsockDevice::tx_queue).add_chain(chain));
        driver->kick(VsockDevice::tx_queue);
    }
    static vsock::Op op_of(VsockPacketHeader const& header) { return static_cast<vsock::Op>(header.op); }

    FakeVsockBackend backend;
    VsockDevice device { hold_guest_cid, backend, VsockMuxerLimits { 1024, 256, max_held } };
    std::map<uint16_t, GuestAddress> m_rx_buffers; // by descriptor head
};

TEST_F(VsockDeviceAgentHoldTest, HostConnects_AreHeldUntilTheAgentListens_ThenSentInOrder)
{
    start_driver();
    post_rx();
    post_rx();
    post_rx();
    driver->kick(VsockDevice::rx_queue);

    auto first = backend.events->on_host_connect(1024);
    auto second = backend.events->on_host_connect(2000);
    ASSERT_TRUE(first && second); // taken, not refused
    driver->kick(VsockDevice::rx_queue);
    EXPECT_TRUE(received().empty());
    EXPECT_EQ(device.host_connect_hold(), HostConnectHold::AgentNotListening);

    device.end_agent_hold(AgentHoldEnd::AgentListening);

    auto packets = received();
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(op_of(packets[0]), vsock::Op::Request);
    EXPECT_EQ(packets[0].dst_port, 1024u);
    EXPECT_EQ(packets[0].src_port, first->host_port);
    EXPECT_EQ(op_of(packets[1]), vsock::Op::Request);
    EXPECT_EQ(packets[1].dst_port, 2000u);
    EXPECT_EQ(packets[1].src_port, second->host_port);
    auto stats = device.stats();
    EXPECT_EQ(stats.host_connects_held_for_agent, 2u);
    EXPECT_EQ(stats.host_connects_held_for_transport_reset, 0u);
    EXPECT_EQ(stats.agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(stats.agent_holds_timed_out, 0u);
    EXPECT_EQ(device.host_connect_hold(), HostConnectHold::None);
}

TEST_F(VsockDeviceAgentHoldTest, BeforeTheDriverExists_AConnectIsHeldAndOutlivesTheDriversReset)
{
    auto key = backend.events->on_host_connect(1024); // no driver yet: refused without the hold

    ASSERT_TRUE(key);
    start_driver(); // resets the device first, as Linux's probe does
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    EXPECT_TRUE(received().empty());
    EXPECT_FALSE(backend.was_closed(*key));

    device.end_agent_hold(AgentHoldEnd::AgentListening);

    auto packets = received();
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(op_of(packets[0]), vsock::Op::Request);
    EXPECT_EQ(packets[0].src_port, key->host_port);
}

TEST_F(VsockDeviceAgentHoldTest, WithoutTheHold_AConnectBeforeTheDriverIsRefusedAsBefore)
{
    device.end_agent_hold(AgentHoldEnd::TimedOut);

    EXPECT_FALSE(backend.events->on_host_connect(1024));
    EXPECT_EQ(device.stats().host_connects_held_for_agent, 0u);
}

TEST_F(VsockDeviceAgentHoldTest, HeldConnects_AreBounded_MoreAreRefused)
{
    start_driver();
    for (size_t i = 0; i < max_held; ++i)
        EXPECT_TRUE(backend.events->on_host_connect(1024));

    EXPECT_FALSE(backend.events->on_host_connect(1024)); // the backend drops that client
    EXPECT_EQ(device.stats().host_connects_held_for_agent, max_held);
    EXPECT_EQ(device.stats().host_connects_refused_while_holding, 1u);

    // Once released they are ordinary connections: the bound is on held ones only.
    device.end_agent_hold(AgentHoldEnd::AgentListening);
    EXPECT_TRUE(backend.events->on_host_connect(1024));
}

TEST_F(VsockDeviceAgentHoldTest, TheBound_ReleasesHeldConnects_AndLaterOnesGoAtOnce)
{
    start_driver();
    post_rx();
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    ASSERT_TRUE(backend.events->on_host_connect(1024));

    device.end_agent_hold(AgentHoldEnd::TimedOut);
    auto late = backend.events->on_host_connect(1024);

    ASSERT_TRUE(late);
    auto packets = received();
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[1].src_port, late->host_port);
    auto stats = device.stats();
    EXPECT_EQ(stats.agent_holds_timed_out, 1u);
    EXPECT_EQ(stats.agent_holds_ended_by_agent, 0u);
    EXPECT_EQ(stats.host_connects_held_for_agent, 1u);
    // The guest refuses the late one (nothing listens): the host end closes, as without the hold.
    transmit(vsock::Op::Rst, *late);
    EXPECT_TRUE(backend.was_closed(*late));
}

TEST_F(VsockDeviceAgentHoldTest, TheAgentBeforeAnyConnect_NothingIsHeld)
{
    start_driver();
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    device.end_agent_hold(AgentHoldEnd::AgentListening);

    ASSERT_TRUE(backend.events->on_host_connect(1024));

    EXPECT_EQ(received().size(), 1u);
    EXPECT_EQ(device.stats().host_connects_held_for_agent, 0u);
}

TEST_F(VsockDeviceAgentHoldTest, TheHoldEndingTwice_CountsOnce)
{
    start_driver();
    device.end_agent_hold(AgentHoldEnd::AgentListening);
    device.end_agent_hold(AgentHoldEnd::AgentListening);
    device.end_agent_hold(AgentHoldEnd::TimedOut); // the bound firing after the agent's report

    EXPECT_EQ(device.stats().agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(device.stats().agent_holds_timed_out, 0u);
}

TEST_F(VsockDeviceAgentHoldTest, TheHoldEndingWhileTheDriverIsGone_SendsWhatItHeldToTheNextDriver)
{
    // A guest can write the agent's report at any time: here between its driver's reset and the
    // next driver. The released connect waits in the device, like any request without RX
    // buffers, and goes to the next driver; no host end is closed, nothing is sent twice.
    start_driver();
    auto key = backend.events->on_host_connect(1024);
    ASSERT_TRUE(key);
    driver->reset();

    device.end_agent_hold(AgentHoldEnd::AgentListening);
    start_driver();
    post_rx();
    post_rx();
    driver->kick(VsockDevice::rx_queue);

    EXPECT_FALSE(backend.was_closed(*key));
    auto packets = received();
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(op_of(packets[0]), vsock::Op::Request);
    EXPECT_EQ(packets[0].src_port, key->host_port);
}

TEST_F(VsockDeviceAgentHoldTest, AResetOfAnActiveDriver_KeepsHeldConnectsHeld)
{
    start_driver();
    auto key = backend.events->on_host_connect(1024);
    ASSERT_TRUE(key);

    driver->reset(); // the device was active: it drops every connection the guest knew
    driver->kick(VsockDevice::rx_queue); // the event thread closes the dropped host ends

    EXPECT_FALSE(backend.was_closed(*key));
    EXPECT_EQ(device.connection_count(), 1u);
    EXPECT_EQ(device.host_connect_hold(), HostConnectHold::AgentNotListening);
}

TEST_F(VsockDeviceAgentHoldTest, AGuestNamingAHeldConnect_GetsARstAndTheConnectStaysHeld)
{
    start_driver();
    post_rx();
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    auto key = backend.events->on_host_connect(1024);
    ASSERT_TRUE(key);
    // The host ports are predictable: the guest answers a REQUEST it never got.
    transmit(vsock::Op::Response, *key);

    auto packets = received();
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(op_of(packets[0]), vsock::Op::Rst);
    EXPECT_TRUE(backend.accepted.empty());
    EXPECT_FALSE(backend.was_closed(*key));

    device.end_agent_hold(AgentHoldEnd::AgentListening);
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    packets = received();
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(op_of(packets[0]), vsock::Op::Request);
}

TEST_F(VsockDeviceAgentHoldTest, AClientLeavingWhileHeld_IsForgottenWithoutATrace)
{
    start_driver();
    post_rx();
    driver->kick(VsockDevice::rx_queue);
    auto key = backend.events->on_host_connect(1024);
    ASSERT_TRUE(key);

    backend.events->on_host_reset(*key); // the backend has forgotten it already
    device.end_agent_hold(AgentHoldEnd::AgentListening);

    EXPECT_TRUE(received().empty()); // no REQUEST, no RST for a connection never announced
    EXPECT_EQ(device.connection_count(), 0u);
}

TEST_F(VsockDeviceAgentHoldTest, ARestore_EndsTheColdBootHold)
{
    start_driver();
    {
        auto lock = transport->lock();
        device.after_restore(); // no event buffer: no transport reset to wait for either
    }

    EXPECT_EQ(device.host_connect_hold(), HostConnectHold::None);
    EXPECT_TRUE(backend.events->on_host_connect(1024));
    EXPECT_EQ(device.stats().host_connects_held_for_agent, 0u);
}

} // namespace

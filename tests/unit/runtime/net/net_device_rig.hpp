// NetDeviceRig: a NetDevice on a real net backend and io_uring loop over a socketpair, driven by
// the MockDriver as Linux's virtio-net would. The test's end of the pair (peer_end) plays what
// the backend talks to: the tap (SOCK_SEQPACKET keeps frame boundaries as a tap does) or passt
// (SOCK_STREAM). Shared by the backends' device tests.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/io/event_loop.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/testing/device_harness.hpp"

#include <array>
#include <chrono>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <sys/socket.h>
#include <vector>

namespace husk::testing {

template <typename Backend>
class NetDeviceRig : public ::testing::Test {
protected:
    static constexpr std::array<uint16_t, 2> queue_sizes { 64, 64 };
    using MakeBackend = std::function<Result<std::unique_ptr<Backend>>(EventLoop& loop, int device_fd)>;

    // The socketpair (the device's end non-blocking, as TapDevice opens the tap), a loop running
    // `opcodes`, the backend, the device with `config`, and a driver that negotiated `features`.
    void start(int socket_type, std::vector<IoOpcode> opcodes, MakeBackend const& make_backend,
        NetDeviceConfig const& config, uint64_t features)
    {
        int pair[2];
        ASSERT_EQ(::socketpair(AF_UNIX, socket_type | SOCK_CLOEXEC, 0, pair), 0);
        device_end = Fd(pair[0]);
        peer_end = Fd(pair[1]);
        ASSERT_EQ(::fcntl(device_end.get(), F_SETFL, O_NONBLOCK), 0);

        EventLoopConfig loop_config;
        loop_config.opcodes = std::move(opcodes);
        loop_config.fixed_file_count = 8;
        auto created_loop = EventLoop::create(loop_config);
        ASSERT_TRUE(created_loop) << created_loop.error().message;
        loop.emplace(std::move(created_loop).value());
        auto created_backend = make_backend(*loop, device_end.get());
        ASSERT_TRUE(created_backend) << created_backend.error().message;
        backend = std::move(created_backend).value();
        device.emplace(*backend, config);

        auto created_harness = DeviceHarness::create(*device, 0x1000000);
        ASSERT_TRUE(created_harness) << created_harness.error().message;
        harness = std::move(created_harness).value();
        memory = &harness->memory();
        driver = &harness->driver();
        ASSERT_TRUE(driver->start(features, queue_sizes));
    }
    // The device's settings in these tests: a fixed locally administered MAC.
    static NetDeviceConfig device_config(NetOffloads offloads)
    {
        NetDeviceConfig config;
        config.mac = { 0x02, 0, 0, 0, 0, 1 };
        config.offloads = offloads;
        return config;
    }
    void TearDown() override
    {
        // The VMM's order: transport and device before the backend, the backend before the loop.
        harness.reset();
        device.reset();
        backend.reset();
        loop.reset();
    }

    // Runs the loop until `done` or two seconds passed.
    bool run_until(std::function<bool()> const& done)
    {
        using namespace std::chrono_literals;
        auto deadline = std::chrono::steady_clock::now() + 2s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            auto ran = loop->run_once(10ms);
            EXPECT_TRUE(ran) << ran.error().message;
        }
        return true;
    }
    // A 2 KiB receive buffer for the device, kicked unless told otherwise.
    MockBuffer post_rx(bool kick = true)
    {
        auto made = harness->buffer(2048, BufferAccess::DeviceWritable);
        EXPECT_TRUE(made);
        EXPECT_TRUE(driver->queue(NetDevice::rx_queue).add_chain(std::vector { *made }));
        if (kick)
            driver->kick(NetDevice::rx_queue);
        return *made;
    }
    // Puts `bytes` (a virtio-net header and a frame) on the transmit queue, not kicked.
    void queue_tx(std::vector<uint8_t> const& bytes)
    {
        auto made = harness->buffer(static_cast<uint32_t>(bytes.size()), BufferAccess::DeviceReadable);
        ASSERT_TRUE(made);
        ASSERT_TRUE(memory->write(made->address, bytes));
        ASSERT_TRUE(driver->queue(NetDevice::tx_queue).add_chain(std::vector { *made }));
    }
    std::vector<virtio::ring::UsedElement> drain_used(uint16_t queue)
    {
        std::vector<virtio::ring::UsedElement> entries;
        while (true) {
            auto used = driver->queue(queue).pop_used();
            if (!used || !*used)
                return entries;
            entries.push_back(**used);
        }
    }

    Fd device_end;
    Fd peer_end;
    std::optional<EventLoop> loop;
    std::unique_ptr<Backend> backend;
    std::optional<NetDevice> device;
    std::unique_ptr<DeviceHarness> harness;
    GuestMemory* memory { nullptr };
    MockDriver* driver { nullptr };
};

} // namespace husk::testing

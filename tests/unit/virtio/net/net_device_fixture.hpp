// NetDeviceTest: a NetDevice in a DeviceHarness (MmioTransport and MockDriver) on a
// FakeNetBackend, with an injected clock for the rate limiters, and helpers that post receive
// buffers and transmit frames the way Linux's virtio-net driver lays them out.
#pragma once

#include "tests/unit/virtio/net/fake_net_backend.hpp"
#include "tests/unit/virtio/testing/device_test.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/net/net_spec.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <memory>
#include <vector>

namespace husk::testing {

namespace net = virtio::net;

// Everything but GUEST_TSO: a receive then needs buffers for one MTU-sized frame only.
inline constexpr uint64_t features_without_guest_tso
    = ~(virtio::feature_mask(net::feature::guest_tso4) | virtio::feature_mask(net::feature::guest_tso6));
inline constexpr MacAddress test_mac { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

class NetDeviceTest : public DeviceTest {
protected:
    void start(uint64_t features = features_without_guest_tso, RateLimiterConfig rx_limit = {},
        RateLimiterConfig tx_limit = {})
    {
        harness.reset();
        backend = std::make_unique<FakeNetBackend>();
        NetDeviceConfig config;
        config.mac = test_mac;
        config.rx_limit = rx_limit;
        config.tx_limit = tx_limit;
        config.clock = [this] { return now; };
        device = std::make_unique<NetDevice>(*backend, std::move(config));
        attach(*device, 0x800000);
        if (HasFatalFailure())
            return;
        std::array<uint16_t, 2> sizes { 16, 16 };
        ASSERT_TRUE(driver->start(features, sizes));
    }

    MockBuffer post_rx(uint32_t length, bool kick = true)
    {
        auto rx_buffer = buffer(length, BufferAccess::DeviceWritable);
        EXPECT_TRUE(driver->queue(NetDevice::rx_queue).add_chain(std::vector { rx_buffer }));
        if (kick)
            driver->kick(NetDevice::rx_queue);
        return rx_buffer;
    }

    static std::vector<uint8_t> frame(size_t length, uint8_t seed = 1)
    {
        std::vector<uint8_t> bytes(length);
        for (size_t i = 0; i < length; ++i)
            bytes[i] = static_cast<uint8_t>(seed + i * 7);
        return bytes;
    }
    static std::vector<uint8_t> with_header(net::Header const& header, std::vector<uint8_t> const& body)
    {
        std::vector<uint8_t> bytes(sizeof header + body.size());
        std::memcpy(bytes.data(), &header, sizeof header);
        if (!body.empty())
            std::memcpy(bytes.data() + sizeof header, body.data(), body.size());
        return bytes;
    }

    // Posts header + frame as a transmit chain, cut into pieces at `cuts` (byte offsets).
    MockBuffer send_tx(std::vector<uint8_t> const& bytes, std::vector<size_t> cuts = {}, bool kick = true)
    {
        std::vector<MockBuffer> buffers;
        MockBuffer first {};
        size_t start = 0;
        cuts.push_back(bytes.size());
        for (size_t cut : cuts) {
            auto piece = buffer(static_cast<uint32_t>(cut - start), BufferAccess::DeviceReadable);
            EXPECT_TRUE(memory->write(piece.address, std::span(bytes).subspan(start, cut - start)));
            if (buffers.empty())
                first = piece;
            buffers.push_back(piece);
            start = cut;
        }
        EXPECT_TRUE(driver->queue(NetDevice::tx_queue).add_chain(buffers));
        if (kick)
            driver->kick(NetDevice::tx_queue);
        return first;
    }

    std::unique_ptr<FakeNetBackend> backend;
    std::unique_ptr<NetDevice> device;
    RateClock::time_point now {};
};

} // namespace husk::testing

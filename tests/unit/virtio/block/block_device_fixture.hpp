// BlockDeviceTest: a BlockDevice on a FakeBlockBackend in a DeviceHarness (MmioTransport and
// MockDriver). Helpers build request chains (header, data, status) in scratch guest memory.
#pragma once

#include "tests/unit/virtio/block/fake_block_backend.hpp"
#include "tests/unit/virtio/testing/device_test.hpp"
#include "virtio/block/block_device.hpp"
#include "virtio/block/block_spec.hpp"

#include <array>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <vector>

namespace husk {

namespace blk = virtio::block;

class BlockDeviceTest : public husk::testing::DeviceTest {
protected:
    static constexpr uint64_t disk_size = 1 << 20; // 2048 sectors

    // Builds the device on a fresh backend and negotiates everything it offers (or `features`).
    void start(FakeBlockBackend::Mode mode = FakeBlockBackend::Mode::Immediate, bool read_only = false,
        std::optional<uint64_t> features = std::nullopt)
    {
        harness.reset(); // it refers to the previous device
        backend = std::make_unique<FakeBlockBackend>(disk_size, mode, read_only);
        device = std::make_unique<BlockDevice>(*backend);
        attach(*device, 0x400000);
        if (HasFatalFailure())
            return;
        std::array<uint16_t, 1> sizes { 64 };
        ASSERT_TRUE(driver->start(features.value_or(~uint64_t { 0 }), sizes));
    }

    MockBuffer header(uint32_t type, uint64_t sector)
    {
        auto header_buffer = buffer(sizeof(blk::RequestHeader), BufferAccess::DeviceReadable);
        EXPECT_TRUE(memory->write_obj(header_buffer.address, blk::RequestHeader { type, 0, sector }));
        return header_buffer;
    }
    MockBuffer segment(uint64_t sector, uint32_t count, uint32_t flags)
    {
        auto segment_buffer = buffer(sizeof(blk::DiscardSegment), BufferAccess::DeviceReadable);
        EXPECT_TRUE(memory->write_obj(segment_buffer.address, blk::DiscardSegment { sector, count, flags }));
        return segment_buffer;
    }
    MockBuffer status() { return buffer(1, BufferAccess::DeviceWritable); }

    std::optional<uint16_t> send(std::vector<MockBuffer> const& buffers)
    {
        auto head = driver->queue(0).add_chain(buffers);
        EXPECT_TRUE(head);
        driver->kick(0);
        return head ? std::optional<uint16_t>(*head) : std::nullopt;
    }
    uint8_t byte_at(GuestAddress address)
    {
        uint8_t value = 0;
        EXPECT_TRUE(memory->read(address, std::span(&value, 1)));
        return value;
    }
    // Sends one request and returns its used entry; the status byte is in `status_buffer`.
    std::optional<virtio::ring::UsedElement> roundtrip(std::vector<MockBuffer> const& buffers)
    {
        send(buffers);
        return next_used();
    }

    std::unique_ptr<FakeBlockBackend> backend;
    std::unique_ptr<BlockDevice> device;
};

} // namespace husk

// DeviceHarness: what every virtio device test sets up, in one place: guest memory, a counting
// interrupt trigger, an MmioTransport around the device under test, and a MockDriver whose
// scratch memory is everything above the first 64 KiB; plus the buffer and guest-byte helpers
// the tests share. The harness does not start the driver: each test negotiates what it needs.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/core/virtio_device.hpp"
#include "virtio/mmio/mmio_transport.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"
#include "virtio/testing/mock_driver.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace husk {

class DeviceHarness {
public:
    // Where the driver's scratch memory starts; below it the guest memory stays untouched.
    static constexpr GuestAddress scratch_start { 0x10000 };

    // Guest memory [0, memory_size), which must be more than scratch_start. `device` must
    // outlive the harness.
    static Result<std::unique_ptr<DeviceHarness>> create(VirtioDevice& device, uint64_t memory_size);
    DeviceHarness(DeviceHarness const&) = delete;
    DeviceHarness& operator=(DeviceHarness const&) = delete;

    GuestMemory& memory() { return m_memory; }
    CountingInterruptTrigger& trigger() { return m_trigger; }
    MmioTransport& transport() { return *m_transport; }
    MockDriver& driver() { return *m_driver; }

    // A fresh buffer of `length` bytes (at least one byte is reserved, so a zero-length buffer
    // still has an address of its own), every byte set to `fill` so untouched bytes show.
    Result<MockBuffer> buffer(uint32_t length, BufferAccess access, uint8_t fill = 0xee);
    Result<std::vector<uint8_t>> bytes_at(GuestAddress address, size_t length) const;

private:
    explicit DeviceHarness(GuestMemory memory)
        : m_memory(std::move(memory))
    {
    }

    GuestMemory m_memory;
    CountingInterruptTrigger m_trigger;
    // The transport refers to the memory and the trigger, the driver to the transport.
    std::unique_ptr<MmioTransport> m_transport;
    std::unique_ptr<MockDriver> m_driver;
};

} // namespace husk

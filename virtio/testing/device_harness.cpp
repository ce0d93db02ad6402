// DeviceHarness: assembling memory, transport and driver, and the shared buffer helpers.
#include "virtio/testing/device_harness.hpp"

#include <algorithm>

namespace husk {

Result<std::unique_ptr<DeviceHarness>> DeviceHarness::create(VirtioDevice& device, uint64_t memory_size)
{
    if (memory_size <= scratch_start.value())
        return fail("device harness memory must be larger than " + std::to_string(scratch_start.value()) + " bytes");
    auto memory = TRY(GuestMemory::create({ { GuestAddress(0), memory_size } }));
    std::unique_ptr<DeviceHarness> harness(new DeviceHarness(std::move(memory)));
    harness->m_transport = TRY(MmioTransport::create(harness->m_memory, device, harness->m_trigger));
    harness->m_driver = std::make_unique<MockDriver>(
        *harness->m_transport, harness->m_memory, scratch_start, memory_size - scratch_start.value());
    return harness;
}

Result<MockBuffer> DeviceHarness::buffer(uint32_t length, BufferAccess access, uint8_t fill)
{
    auto address = TRY(m_driver->allocate(std::max<uint32_t>(length, 1)));
    TRY(m_memory.fill(address, fill, length));
    return MockBuffer { address, length, access };
}

Result<std::vector<uint8_t>> DeviceHarness::bytes_at(GuestAddress address, size_t length) const
{
    std::vector<uint8_t> bytes(length);
    TRY(m_memory.read(address, bytes));
    return bytes;
}

} // namespace husk

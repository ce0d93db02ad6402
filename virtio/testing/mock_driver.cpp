// MockDriver: the register sequences of a virtio-mmio guest driver.
#include "virtio/testing/mock_driver.hpp"

#include "virtio/core/virtio_spec.hpp"
#include "virtio/mmio/mmio_registers.hpp"

#include <array>
#include <cstring>

namespace husk {

namespace mmio = virtio::mmio;

uint32_t MockDriver::read_register(uint64_t offset)
{
    uint32_t value = 0;
    std::array<uint8_t, 4> bytes {};
    m_transport.read(offset, bytes);
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

void MockDriver::write_register(uint64_t offset, uint32_t value)
{
    std::array<uint8_t, 4> bytes {};
    std::memcpy(bytes.data(), &value, sizeof value);
    m_transport.write(offset, bytes);
}

uint32_t MockDriver::status() { return read_register(mmio::status); }
uint32_t MockDriver::interrupt_status() { return read_register(mmio::interrupt_status); }
void MockDriver::acknowledge_interrupt(uint32_t bits) { write_register(mmio::interrupt_ack, bits); }
void MockDriver::kick(uint16_t index) { write_register(mmio::queue_notify, index); }

uint64_t MockDriver::device_features()
{
    write_register(mmio::device_features_sel, 1);
    uint64_t high = read_register(mmio::device_features);
    write_register(mmio::device_features_sel, 0);
    return (high << 32) | read_register(mmio::device_features);
}

Result<void> MockDriver::negotiate_exactly(uint64_t features)
{
    if (read_register(mmio::magic_value) != mmio::magic || read_register(mmio::version) != mmio::version_2)
        return fail("not a virtio-mmio version 2 device");
    reset();
    m_queues.clear();
    add_status(virtio::status::acknowledge);
    add_status(virtio::status::driver);
    write_register(mmio::driver_features_sel, 0);
    write_register(mmio::driver_features, static_cast<uint32_t>(features));
    write_register(mmio::driver_features_sel, 1);
    write_register(mmio::driver_features, static_cast<uint32_t>(features >> 32));
    add_status(virtio::status::features_ok);
    if (!(status() & virtio::status::features_ok))
        return fail("device refused the feature set (FEATURES_OK stayed clear)");
    return {};
}

Result<uint64_t> MockDriver::negotiate(uint64_t wanted)
{
    uint64_t accepted = (wanted & device_features()) | virtio::feature_mask(virtio::feature::version_1);
    TRY(negotiate_exactly(accepted));
    return accepted;
}

Result<GuestAddress> MockDriver::allocate(uint64_t size, uint64_t alignment)
{
    uint64_t start = (m_next_free.value() + alignment - 1) / alignment * alignment;
    if (start > m_scratch_end.value() || size > m_scratch_end.value() - start)
        return fail("mock driver scratch memory exhausted");
    TRY(m_memory.fill(GuestAddress(start), 0, size));
    m_next_free = GuestAddress(start + size);
    return GuestAddress(start);
}

Result<MockQueue*> MockDriver::setup_queue(uint16_t index, uint16_t size)
{
    write_register(mmio::queue_sel, index);
    if (read_register(mmio::queue_ready) != 0)
        return fail("queue " + std::to_string(index) + " already ready");
    uint32_t maximum = read_register(mmio::queue_num_max);
    if (maximum == 0)
        return fail("queue " + std::to_string(index) + " does not exist");
    if (size > maximum)
        return fail("queue size " + std::to_string(size) + " above QueueNumMax " + std::to_string(maximum));
    auto base = TRY(allocate(MockQueue::footprint(size), 4096));
    auto queue = TRY(MockQueue::create(m_memory, base, size));
    auto const& layout = queue.layout();
    write_register(mmio::queue_num, size);
    write_register(mmio::queue_desc_low, static_cast<uint32_t>(layout.descriptor_table.value()));
    write_register(mmio::queue_desc_high, static_cast<uint32_t>(layout.descriptor_table.value() >> 32));
    write_register(mmio::queue_driver_low, static_cast<uint32_t>(layout.avail_ring.value()));
    write_register(mmio::queue_driver_high, static_cast<uint32_t>(layout.avail_ring.value() >> 32));
    write_register(mmio::queue_device_low, static_cast<uint32_t>(layout.used_ring.value()));
    write_register(mmio::queue_device_high, static_cast<uint32_t>(layout.used_ring.value() >> 32));
    write_register(mmio::queue_ready, 1);
    if (m_queues.size() <= index)
        m_queues.resize(index + 1);
    m_queues[index] = std::make_unique<MockQueue>(std::move(queue));
    return m_queues[index].get();
}

Result<void> MockDriver::driver_ok()
{
    add_status(virtio::status::driver_ok);
    auto current = status();
    if (current & virtio::status::device_needs_reset)
        return fail("device needs reset after DRIVER_OK");
    if (!(current & virtio::status::driver_ok))
        return fail("device did not accept DRIVER_OK");
    return {};
}

Result<void> MockDriver::start(uint64_t wanted_features, std::span<uint16_t const> queue_sizes)
{
    TRY(negotiate(wanted_features));
    for (uint16_t index = 0; index < queue_sizes.size(); ++index)
        TRY(setup_queue(index, queue_sizes[index]));
    return driver_ok();
}

} // namespace husk

// MockDriver: a guest virtio-mmio driver for device tests, speaking to an MmioTransport only
// through its registers, the way Linux's virtio_mmio does: reset, ACKNOWLEDGE, DRIVER, feature
// negotiation, FEATURES_OK, queue setup, DRIVER_OK, then kicks and interrupt acknowledgement.
// Rings and data buffers come from a scratch range of guest memory it allocates from.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/mmio/mmio_registers.hpp"
#include "virtio/mmio/mmio_transport.hpp"
#include "virtio/testing/mock_queue.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace husk {

class MockDriver {
public:
    // Uses guest memory [scratch, scratch + scratch_size) for rings and buffers. The transport and
    // memory must outlive the driver.
    MockDriver(MmioTransport& transport, GuestMemory& memory, GuestAddress scratch, uint64_t scratch_size)
        : m_transport(transport)
        , m_memory(memory)
        , m_next_free(scratch)
        , m_scratch_end(scratch.unchecked_add(scratch_size))
    {
    }

    // 32-bit register access, as the driver must use (§4.2.2.2).
    uint32_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint32_t value);

    uint64_t device_features();
    // Reset, ACKNOWLEDGE, DRIVER, then accepts exactly `features` and sets FEATURES_OK. Fails when
    // the device leaves FEATURES_OK clear (it refused the set).
    Result<void> negotiate_exactly(uint64_t features);
    // Like negotiate_exactly with the offered subset of `wanted`; returns the accepted set.
    Result<uint64_t> negotiate(uint64_t wanted);
    // Lays out queue `index` with `size` entries and writes its registers, ending with QueueReady.
    Result<MockQueue*> setup_queue(uint16_t index, uint16_t size);
    // Sets DRIVER_OK; fails when the device refused activation (NEEDS_RESET) instead.
    Result<void> driver_ok();
    // negotiate(wanted) + setup_queue for each size + driver_ok.
    Result<void> start(uint64_t wanted_features, std::span<uint16_t const> queue_sizes);
    void reset() { write_register_status(0); }

    void kick(uint16_t index);
    uint32_t status();
    uint32_t interrupt_status();
    void acknowledge_interrupt(uint32_t bits);

    MockQueue& queue(uint16_t index) { return *m_queues.at(index); }
    // A fresh, zeroed range of guest memory for buffers or indirect tables.
    Result<GuestAddress> allocate(uint64_t size, uint64_t alignment = 16);
    GuestMemory& memory() { return m_memory; }

private:
    void write_register_status(uint32_t value) { write_register(virtio::mmio::status, value); }
    void add_status(uint32_t bits) { write_register_status(status() | bits); }

    MmioTransport& m_transport;
    GuestMemory& m_memory;
    GuestAddress m_next_free;
    GuestAddress m_scratch_end;
    std::vector<std::unique_ptr<MockQueue>> m_queues;
};

} // namespace husk

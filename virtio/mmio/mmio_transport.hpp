// MmioTransport: the virtio-mmio version 2 transport for one VirtioDevice. The VMM's MMIO bus
// forwards guest accesses in the device's window to read()/write() (it is a BusDevice); ioeventfd
// kicks arrive through notify_queue(). It runs the device status state machine, feature negotiation
// and queue setup, and keeps the guest from touching anything it must not: unknown offsets, bad
// access widths, queue changes after DRIVER_OK and unoffered features are ignored and counted.
#pragma once

#include "runtime/base/bus_device.hpp"
#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/core/interrupt.hpp"
#include "virtio/core/virtio_device.hpp"
#include "virtio/mmio/mmio_transport_state.hpp"
#include "virtio/queue/split_queue.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace husk {

// Guest accesses the transport refused, for diagnostics and tests.
struct MmioTransportStats {
    uint64_t bad_width { 0 }; // register access not 32-bit aligned, config not 1/2/4 bytes
    uint64_t ignored_writes { 0 }; // read-only/unknown register, or a write the state forbids
    uint64_t ignored_reads { 0 }; // write-only or unknown register
    uint64_t rejected_status { 0 }; // Status writes that are not a valid transition
};

class MmioTransport final : public BusDevice {
public:
    // `memory`, `device` and `trigger` must outlive the transport. Fails if the device describes
    // queues the transport cannot offer.
    static Result<std::unique_ptr<MmioTransport>> create(
        GuestMemory& memory, VirtioDevice& device, InterruptTrigger& trigger);
    ~MmioTransport() override;
    MmioTransport(MmioTransport const&) = delete;
    MmioTransport& operator=(MmioTransport const&) = delete;

    // Guest access at `offset` in the device window; data.size() is the access width.
    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<uint8_t const> data) override;

    // A kick of queue `index` that bypassed MMIO (ioeventfd). Same effect as a QueueNotify write.
    void notify_queue(uint32_t index);

    // Serialises with guest accesses and kicks, for backends that complete requests later on
    // their own thread (they must not race a driver reset).
    [[nodiscard]] std::unique_lock<std::mutex> lock() { return std::unique_lock(m_mutex); }

    // The Status register as the guest reads it.
    uint32_t device_status() const;
    bool is_activated() const;
    VirtioInterrupt& interrupt() { return m_interrupt; }
    MmioTransportStats stats() const;

    // Snapshots: the caller keeps the guest and the device quiet meanwhile (vCPUs paused, event
    // thread parked). restore_state() takes a transport that was never touched, checks the state
    // against the device (queue count, sizes, features), rebuilds the queues and activates the
    // device on them when the state says DRIVER_OK; a state that does not fit is an error.
    MmioTransportState save_state() const;
    Result<void> restore_state(MmioTransportState const& state);

private:
    struct QueueRegisters {
        uint16_t size { 0 };
        bool ready { false };
        uint64_t descriptor_table { 0 };
        uint64_t avail_ring { 0 };
        uint64_t used_ring { 0 };
    };

    MmioTransport(GuestMemory& memory, VirtioDevice& device, InterruptTrigger& trigger);

    uint32_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint32_t value);
    void write_status(uint32_t value);
    void write_queue_register(uint64_t offset, uint32_t value);
    void notify_locked(uint32_t index);
    bool negotiate_features();
    void activate();
    void reset_locked();
    uint64_t offered_features() const;
    bool status_has(uint32_t bits) const { return (m_status & bits) == bits; }

    GuestMemory& m_memory;
    VirtioDevice& m_device;
    VirtioInterrupt m_interrupt;
    mutable std::mutex m_mutex;

    uint32_t m_status { 0 }; // without NEEDS_RESET, which m_interrupt owns
    bool m_activated { false };
    uint32_t m_device_features_select { 0 };
    uint32_t m_driver_features_select { 0 };
    uint64_t m_driver_features { 0 };
    uint32_t m_queue_select { 0 };
    std::vector<QueueRegisters> m_queue_registers;
    std::vector<SplitQueue> m_queues; // handed to the device while activated
    MmioTransportStats m_stats;
};

} // namespace husk

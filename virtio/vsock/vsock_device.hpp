// VsockDevice: the virtio socket device (virtio 1.2 §5.10, device type 19). Queues: rx (0, the
// device fills guest buffers with packets), tx (1, the guest's packets), event (2, unused: husk
// sends TRANSPORT_RESET once after a snapshot restore, since no connection survives one). Config space: the guest's CID.
// The device moves packets between the queues and a VsockMuxer, which talks to a VsockBackend
// for the host ends of the streams.
//
// Held host connects: a host connect that could only be refused now, but will succeed soon, is
// taken and held in the muxer (HostConnectDelivery::Held), its REQUEST sent once nothing holds
// it any more, in arrival order. Two reasons (HostConnectHold):
// - TransportReset: after a restore, until the guest handled the transport reset;
// - AgentNotListening: on a cold boot (hold_host_connects_until_agent_listens()), until the VMM
//   learns from husk-init that its agent listens, or gives up waiting (end_agent_hold()). Also
//   before the guest's driver exists: the held connects outlive its resets.
// Firecracker and Cloud Hypervisor refuse such connects (the client retries); holding them saves
// the booting guest a request and a reset per retry and the client its last back-off pause.
//
// Threading: the transport calls the VirtioDevice methods under its lock, from vCPU threads (MMIO)
// or the event thread (ioeventfd kicks); the backend calls the VsockBackendEvents methods on the
// event thread. An internal mutex serialises both. The backend itself must only be called on the
// event thread, hence two rules:
// - queue_notify() must come from the event thread: the VMM registers an ioeventfd for every
//   queue (a kick of the event queue ends the transport-reset wait below and sends what waited);
// - reset(), which a vCPU thread runs when the driver writes Status = 0, does not call the
//   backend: the host ends of the dropped connections are closed on the next event-thread call
//   (a kick or a backend event), or at destruction.
// RX is refilled whenever the guest posts buffers (rx kick), sends (tx kick) or the backend has
// something.
#pragma once

#include "virtio/core/virtio_device.hpp"
#include "virtio/queue/queue_batch.hpp"
#include "virtio/vsock/muxer.hpp"
#include "virtio/vsock/packet.hpp"
#include "virtio/vsock/vsock_backend.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace husk {

struct VsockDeviceStats {
    uint64_t tx_packets { 0 };
    uint64_t tx_malformed { 0 }; // could not be parsed (short header, bad length)
    uint64_t rx_packets { 0 };
    uint64_t transport_resets_sent { 0 };
    // Host connects held, by reason (HostConnectHold), and refused because the muxer held as many
    // as it may (VsockMuxerLimits::max_held_host_connects).
    uint64_t host_connects_held_for_transport_reset { 0 };
    uint64_t host_connects_held_for_agent { 0 };
    uint64_t host_connects_refused_while_holding { 0 };
    // How the cold-boot hold ended: 1 in one of them once it has.
    uint64_t agent_holds_ended_by_agent { 0 };
    uint64_t agent_holds_timed_out { 0 };
    uint64_t rx_buffers_too_small { 0 }; // no room for a header, or header-only while data waits: returned empty
    uint64_t chain_faults { 0 }; // chain-level queue errors, completed with length 0
};

// Why host connects are held (the first that applies), None when they go to the guest at once.
enum class HostConnectHold : uint8_t { None, TransportReset, AgentNotListening };
// Why the cold-boot hold ended.
enum class AgentHoldEnd : uint8_t { AgentListening, TimedOut };

class VsockDevice final : public VirtioDevice, public VsockBackendEvents {
public:
    static constexpr uint16_t rx_queue = 0;
    static constexpr uint16_t tx_queue = 1;
    static constexpr uint16_t event_queue = 2;
    static constexpr uint16_t queue_size = virtio::max_queue_size;

    // `guest_cid` must satisfy vsock::is_valid_guest_cid (check it where the option is parsed).
    // `backend` must outlive the device; the device registers itself as its event sink.
    VsockDevice(uint64_t guest_cid, VsockBackend& backend, VsockMuxerLimits limits = {});
    ~VsockDevice() override;
    VsockDevice(VsockDevice const&) = delete;
    VsockDevice& operator=(VsockDevice const&) = delete;

    // VirtioDevice
    virtio::DeviceType device_type() const override { return virtio::DeviceType::Vsock; }
    // EVENT_IDX: the driver kicks only when the device asks (avail_event) and the device
    // interrupts only when the driver asks (used_event), as with vhost-vsock. VERSION_1 is the
    // transport's.
    uint64_t features() const override { return virtio::feature_mask(virtio::feature::event_idx); }
    uint16_t queue_count() const override { return 3; }
    uint16_t queue_max_size(uint16_t) const override { return queue_size; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void write_config(uint64_t, std::span<uint8_t const>) override { } // guest_cid is read-only
    Result<void> activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt,
        uint64_t negotiated_features) override;
    void reset() override;
    void queue_notify(uint16_t index) override;
    // Snapshots keep the queues and the CID; connections do not survive a restore (their host
    // ends belong to the old process), so after_restore() sends the guest TRANSPORT_RESET, which
    // makes it drop every connected socket and read the CID again (virtio 1.2 §5.10.6.6). Until
    // the guest posts the event buffer back (its kick) nothing goes to its RX queue: a host
    // connect arriving then is held and reaches the guest right after, not refused and retried.
    bool supports_snapshot() const override { return true; }
    void prepare_snapshot() override;
    void after_restore() override;
    // A restored guest's agent listened before the snapshot: after_restore() also ends the
    // cold-boot hold (its own, TransportReset, takes over).

    // Cold boot, before the event thread serves anything: hold host connects, to any port, until
    // end_agent_hold(). The caller must bound the hold (a guest may never report its agent).
    void hold_host_connects_until_agent_listens();
    // On the event thread: sends what the cold-boot hold kept, in order; later connects go to the
    // guest at once (a guest's RST is a refusal again). Harmless when nothing holds.
    void end_agent_hold(AgentHoldEnd why);
    HostConnectHold host_connect_hold() const;

    // The muxer's next host port, saved and restored with the snapshot (VsockMuxer).
    uint32_t next_host_port() const;
    void continue_host_ports_from(uint32_t port);

    // VsockBackendEvents
    std::optional<VsockConnectionKey> on_host_connect(uint32_t guest_port) override;
    void on_host_connect_result(VsockConnectionKey key, VsockOpenOutcome outcome) override;
    void on_host_readable(VsockConnectionKey key) override;
    void on_host_consumed(VsockConnectionKey key, uint32_t bytes) override;
    void on_host_reset(VsockConnectionKey key) override;

    uint64_t guest_cid() const { return m_guest_cid; }
    VsockDeviceStats stats() const;
    VsockMuxerStats muxer_stats() const;
    size_t connection_count() const;

private:
    bool is_active() const { return m_memory != nullptr; }
    // On the event thread: closes the host ends a reset() left open.
    void close_detached_host_ends();
    void note_transport_reset_handled();
    HostConnectHold current_hold() const; // with m_mutex held
    // Once no reason holds them: the held connects' requests are scheduled (and sent when active).
    void release_held_host_connects_when_free();
    void process_tx();
    void process_rx();
    // Takes the held RX chain or the batch's next one with room for a header (smaller ones are
    // returned empty); nullopt when none is usable right now.
    std::optional<DescriptorChain> next_rx_chain(QueueBatch& batch);

    uint64_t m_guest_cid;
    VsockBackend& m_backend;
    mutable std::mutex m_mutex;
    VsockMuxer m_muxer;
    GuestMemory* m_memory { nullptr };
    SplitQueue* m_rx { nullptr };
    SplitQueue* m_tx { nullptr };
    SplitQueue* m_event { nullptr };
    VirtioInterrupt* m_interrupt { nullptr };
    // An RX chain popped when the muxer turned out to have nothing to send: used first next time.
    std::optional<DescriptorChain> m_held_rx_chain;
    // Host ends of connections dropped by reset(), waiting for the event thread to close them.
    std::vector<VsockConnectionKey> m_detached_host_ends;
    bool m_transport_reset_pending { false };
    bool m_holding_for_agent { false };
    std::optional<uint16_t> m_event_available_at_reset; // the event ring's avail index then
    VsockDeviceStats m_stats;
    std::vector<uint8_t>
        m_tx_payload; // max_packet_payload bytes, on the heap: devices are often stack objects in tests
};

} // namespace husk

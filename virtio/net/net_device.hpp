// NetDevice: the virtio network device (virtio 1.2 §5.1, device type 1) with one receive queue
// (0) and one transmit queue (1), no control queue. Features: MAC, STATUS (link always up),
// MRG_RXBUF, CSUM/GUEST_CSUM, HOST_TSO4/6 and GUEST_TSO4/6 (not with NetOffloads::None),
// EVENT_IDX and INDIRECT_DESC.
// Frames move between guest buffers and a NetBackend with no copy: a receive reads the next
// frame straight into the guest's posted buffers (spanning several with MRG_RXBUF), a transmit
// writes the guest's buffers behind a checked copy of its header (check_tx_frame).
//
// Receive: the device holds popped receive chains until they cover the largest frame the guest
// may get (a whole GSO frame with GUEST_TSO, one MTU otherwise), then starts one read. When the
// ring runs dry it waits for the guest's next receive kick and then starts reading again (a
// device that forgot to re-drain the tap there would leave frames waiting forever: the classic
// lost wakeup). The receive offloads the guest acked are handed to the backend before the first
// read of each activation.
//
// Rate limiting: a RateLimiter per direction (bytes/s and frames/s). A blocked direction waits
// for a backend timer; transmit chains stay in the ring meanwhile and receive frames in the tap.
//
// Guest faults: a malformed transmit frame is completed unsent (used length 0) and counted by
// cause; a chain-level queue error completes that chain with used length 0; a broken ring marks
// the device NEEDS_RESET. None of it stops the VMM.
//
// Threading, as for BlockDevice: the transport calls the VirtioDevice methods under its lock;
// queue_notify() calls the backend, so it must come from the event thread (the VMM registers an
// ioeventfd per queue); reset() may run on a vCPU thread and never calls the backend: a receive
// in flight is cancelled on the next event-thread call, and what it or a transmit still reports
// afterwards is dropped. An internal mutex serialises everything.
//
// Snapshots (docs/snapshots.md): a pause cancels the tap read in flight (begin_pause; a frame it
// had read is lost, as a NIC drops what it had not delivered) and waits for transmits in flight
// (has_requests_in_flight). prepare_snapshot() then un-pops the receive chains held for the next
// frame and a transmit the rate limiter held back (SplitQueue::give_back), so the saved ring
// indices are the device's whole state and a restored device pops them again. The rate limiters
// are not saved: a restored device starts with full buckets.
#pragma once

#include "virtio/core/virtio_device.hpp"
#include "virtio/net/net_backend.hpp"
#include "virtio/net/net_spec.hpp"
#include "virtio/net/rate_limiter.hpp"
#include "virtio/net/tx_frame_check.hpp"
#include "virtio/queue/queue_batch.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace husk {

using MacAddress = std::array<uint8_t, virtio::net::mac_length>;

// Whether the backend carries the virtio-net header's checksum and segmentation offloads. A tap
// does (IFF_VNET_HDR); a plain frame stream (passt) does not: then the device offers neither
// CSUM/GUEST_CSUM nor TSO, and every frame is complete and checksummed both ways.
enum class NetOffloads { Offered, None };

struct NetDeviceConfig {
    MacAddress mac {};
    NetOffloads offloads { NetOffloads::Offered };
    RateLimiterConfig rx_limit; // host → guest
    RateLimiterConfig tx_limit; // guest → host
    // The limiters' clock: tests inject their own.
    std::function<RateClock::time_point()> clock = [] { return RateClock::now(); };
};

struct NetDeviceStats {
    uint64_t rx_frames { 0 };
    uint64_t rx_bytes { 0 }; // frame bytes, headers excluded
    uint64_t rx_truncated { 0 }; // larger than the buffers posted: dropped
    uint64_t rx_errors { 0 }; // the backend's read failed
    uint64_t rx_buffers_too_small { 0 }; // receive chains with no room for a header: returned empty
    uint64_t rx_throttled { 0 }; // times the receive limiter made the device wait
    uint64_t tx_frames { 0 };
    uint64_t tx_bytes { 0 };
    uint64_t tx_malformed { 0 }; // refused by check_tx_frame or too short for a header
    uint64_t tx_errors { 0 }; // the backend's write failed
    uint64_t tx_throttled { 0 };
    uint64_t chain_faults { 0 };
    TxFrameProblem last_tx_problem { TxFrameProblem::None };
};

class NetDevice final : public VirtioDevice, public NetBackendEvents {
public:
    static constexpr uint16_t rx_queue = 0;
    static constexpr uint16_t tx_queue = 1;
    static constexpr uint16_t queue_size = virtio::max_queue_size;
    // Transmits handed to the backend at once; the rest wait in the ring.
    static constexpr size_t max_tx_in_flight = 64;

    // `backend` must outlive the device; the device registers itself as its event sink.
    NetDevice(NetBackend& backend, NetDeviceConfig config);
    ~NetDevice() override;
    NetDevice(NetDevice const&) = delete;
    NetDevice& operator=(NetDevice const&) = delete;

    // VirtioDevice
    virtio::DeviceType device_type() const override { return virtio::DeviceType::Net; }
    uint64_t features() const override;
    uint16_t queue_count() const override { return 2; }
    uint16_t queue_max_size(uint16_t) const override { return queue_size; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void write_config(uint64_t, std::span<uint8_t const>) override { } // the MAC is read-only here
    Result<void> activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt,
        uint64_t negotiated_features) override;
    void reset() override;
    void queue_notify(uint16_t index) override;
    bool supports_snapshot() const override { return true; }
    bool has_requests_in_flight() const override;
    void begin_pause() override;
    void end_pause() override;
    void prepare_snapshot() override;
    // A restore: the guest's driver read the snapshot's MAC at its probe and keeps using it, so
    // the device reports that one. Before activation.
    void restore_mac(MacAddress const& mac);

    // NetBackendEvents
    void on_net_received(int64_t result) override;
    void on_net_transmitted(uint64_t tag, int64_t result) override;
    void on_net_timer() override;

    MacAddress mac() const;
    NetDeviceStats stats() const;
    // The offloads handed to the backend for this activation, once they were.
    std::optional<RxOffloads> applied_rx_offloads() const;
    size_t held_rx_chains() const;
    bool is_receiving() const;

private:
    struct TxInFlight {
        uint64_t generation { 0 };
        uint16_t head { 0 };
        uint64_t frame_bytes { 0 };
        virtio::net::Header header {}; // the checked copy the backend sends, not the guest's
        std::vector<iovec> buffers;
    };

    bool is_active() const { return m_memory != nullptr; }
    // Everything an event-thread entry does first: offloads, a stale receive to cancel.
    bool prepare_event_thread();
    void process_rx();
    void process_tx();
    // Pops receive chains until they cover one frame; false when the ring ran dry first.
    bool gather_rx_chains(QueueBatch& batch);
    uint64_t rx_bytes_wanted() const;
    void deliver_rx(QueueBatch& batch, uint64_t length);
    // Starts one transmit of `chain`; false when the limiter holds it (it is kept for later).
    bool start_tx(QueueBatch& batch, DescriptorChain chain);
    void arm_timer(std::chrono::nanoseconds delay);

    NetBackend& m_backend;
    NetDeviceConfig m_config;
    RateLimiter m_rx_limiter;
    RateLimiter m_tx_limiter;
    mutable std::mutex m_mutex;
    GuestMemory* m_memory { nullptr };
    SplitQueue* m_rx { nullptr };
    SplitQueue* m_tx { nullptr };
    VirtioInterrupt* m_interrupt { nullptr };
    bool m_mergeable { false };
    bool m_paused { false }; // between begin_pause() and end_pause(): no new backend requests
    TxOffloads m_tx_offloads;
    RxOffloads m_rx_offloads;
    std::optional<RxOffloads> m_applied_rx_offloads; // reset by activation: apply again
    uint64_t m_generation { 0 };

    // Receive: popped chains in ring order, and the iovecs of the read in flight over them.
    std::vector<DescriptorChain> m_rx_chains;
    uint64_t m_rx_chain_bytes { 0 };
    // How many chains at the end of m_rx_chains were the last ones popped from the ring, with
    // nothing completed in between: those a pause can un-pop (the others it returns empty).
    size_t m_rx_chains_at_ring_tail { 0 };
    std::vector<iovec> m_rx_buffers;
    bool m_receiving { false };
    uint64_t m_receive_generation { 0 };
    bool m_receive_cancelled { false };

    // Transmit: a chain the limiter held back, and the writes in flight by tag.
    std::optional<DescriptorChain> m_held_tx;
    std::unordered_map<uint64_t, std::unique_ptr<TxInFlight>> m_tx_in_flight;
    uint64_t m_next_tag { 0 };
    // When the soonest backend timer in flight fires (the device's clock); none when idle.
    std::optional<RateClock::time_point> m_timer_deadline;

    NetDeviceStats m_stats;
};

} // namespace husk

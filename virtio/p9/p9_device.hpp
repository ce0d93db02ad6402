// P9Device: the virtio-9p device (virtio 1.2 §5.11, device type 9): one request queue whose
// chains each carry a 9P request (device-readable) and room for its reply (device-writable),
// and a config space naming the mount tag the guest mounts by (`mount -t 9p TAG`). The 9P
// messages go to a P9Handler; the device only moves bytes, so it needs no file-system code.
//
// Guest faults: a chain-level fault, a request longer than the handler's msize or one with no
// 9P header is completed with used length 0; a broken ring marks the device NEEDS_RESET
// (QueueBatch's policy).
//
// Threading: the transport calls the VirtioDevice methods under its lock; queue_notify() calls
// the handler, so the VMM routes this queue's kicks to the event thread (ioeventfd). reset() does
// not touch the handler: its fids stay until the guest's next Tversion, which starts a new
// session (Linux sends one at every mount).
#pragma once

#include "virtio/core/virtio_device.hpp"
#include "virtio/p9/p9_handler.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace husk {

// What one zero-copy path moved and how long the event thread spent in it.
struct P9ZeroCopyStats {
    uint64_t requests { 0 };
    uint64_t bytes { 0 }; // data bytes (Twrite's payload sent, Rread's data returned)
    uint64_t serving_ns { 0 };
};

struct P9DeviceStats {
    uint64_t requests_served { 0 };
    uint64_t requests_refused { 0 }; // chain faults, oversized or header-less requests
    // Event-thread time inside requests (parse, system calls, reply), all kinds together, and the
    // longest single one: where a slow share spends its time, without a profiler in the guest.
    uint64_t serving_ns { 0 };
    uint64_t longest_request_ns { 0 };
    P9ZeroCopyStats writes_in_place;
    P9ZeroCopyStats reads_in_place;
};

class P9Device final : public VirtioDevice {
public:
    static constexpr uint16_t queue_size = 128; // what Linux's virtio-9p expects (VIRTQUEUE_NUM)

    // `tag` must be 1..p9::max_tag_length bytes (checked by the option parser); `handler` must
    // outlive the device.
    P9Device(std::string tag, P9Handler& handler);

    virtio::DeviceType device_type() const override { return virtio::DeviceType::NineP; }
    uint64_t features() const override;
    uint16_t queue_count() const override { return 1; }
    uint16_t queue_max_size(uint16_t) const override { return queue_size; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void write_config(uint64_t, std::span<uint8_t const>) override { } // read-only config
    Result<void> activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt,
        uint64_t negotiated_features) override;
    void reset() override;
    void queue_notify(uint16_t index) override;
    // Every request is served synchronously in queue_notify(), so none is in flight when the
    // event thread parks; the handler's session is saved by the VMM (runtime/share/).
    bool supports_snapshot() const override { return true; }

    P9DeviceStats const& stats() const { return m_stats; }

private:
    // The used length for one chain: the reply's bytes written, or 0 when refused.
    uint32_t serve(DescriptorChain const& chain);
    // A large Twrite served from guest memory (a malformed one gets its Rlerror there too);
    // nullopt when the chain is not a large Twrite, which is then served the ordinary way.
    std::optional<size_t> serve_write_in_place(DescriptorChain const& chain, std::span<uint8_t> reply);
    // A Tread with a large reply room, its data read straight into guest memory; returns the used
    // length (0: refused), or nullopt when the chain is not such a Tread.
    std::optional<uint32_t> serve_read_in_place(DescriptorChain const& chain);

    // Below this a copy is cheaper than gathering io-vectors (Linux sends writes of a page or
    // more with the data in buffers of their own).
    static constexpr uint64_t zero_copy_write_minimum = 4096;
    // Likewise for reads: below this much room for the data the reply goes through m_reply.
    static constexpr uint64_t zero_copy_read_minimum = 4096;
    static constexpr size_t max_io_vectors = 1024; // IOV_MAX

    std::vector<uint8_t> m_config;
    P9Handler& m_handler;
    GuestMemory* m_memory { nullptr };
    SplitQueue* m_queue { nullptr };
    VirtioInterrupt* m_interrupt { nullptr };
    // One message at a time, each buffer max_message_size() bytes, allocated at the first request
    // and never initialised (a vector's resize would zero up to 1 MiB per request).
    std::unique_ptr<uint8_t[]> m_request;
    std::unique_ptr<uint8_t[]> m_reply;
    std::vector<iovec> m_write_data; // serve_write_in_place's io-vectors, reused
    std::vector<iovec> m_read_data; // serve_read_in_place's io-vectors, reused
    P9DeviceStats m_stats;
};

} // namespace husk

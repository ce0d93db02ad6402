// virtio-vsock on the wire (virtio 1.2 §5.10): the 44-byte packet header, the protocol
// constants, the config space and the event. Only <cstdint>, so the hostile-driver guest
// (tests/guests, freestanding) speaks the same definitions as the device.
#pragma once

#include <cstdint>

namespace husk {

namespace vsock {

    // Well-known CIDs (§5.10.4): the host is always 2; guests get 3 and up.
    inline constexpr uint64_t host_cid = 2;
    inline constexpr uint64_t first_guest_cid = 3;
    // The upper 32 bits of a CID are reserved (§5.10.4) and U32_MAX means "any" to Linux.
    inline constexpr uint64_t last_guest_cid = 0xffff'fffe;
    constexpr bool is_valid_guest_cid(uint64_t cid) { return cid >= first_guest_cid && cid <= last_guest_cid; }

    inline constexpr uint16_t type_stream = 1;
    inline constexpr uint16_t type_seqpacket = 2; // not offered: VIRTIO_VSOCK_F_SEQPACKET is never negotiated

    enum class Op : uint16_t {
        Invalid = 0,
        Request = 1,
        Response = 2,
        Rst = 3,
        Shutdown = 4,
        Rw = 5,
        CreditUpdate = 6,
        CreditRequest = 7,
    };

    // SHUTDOWN flags: what the sender of the packet will no longer do.
    inline constexpr uint32_t shutdown_receive = 1;
    inline constexpr uint32_t shutdown_send = 2;
    inline constexpr uint32_t shutdown_both = shutdown_receive | shutdown_send;

    // Largest payload husk accepts or produces in one packet: Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE,
    // so a Linux guest never sends more and one packet never makes the event thread copy more.
    inline constexpr uint32_t max_packet_payload = 64 * 1024;

    // virtio_vsock_config (§5.10.4).
    struct Config {
        uint64_t guest_cid;
    };
    static_assert(sizeof(Config) == 8);

    // virtio_vsock_event (§5.10.6.4), for the event queue.
    struct Event {
        uint32_t id;
    };
    static_assert(sizeof(Event) == 4);
    inline constexpr uint32_t event_transport_reset = 0;

} // namespace vsock

// virtio_vsock_hdr, little-endian on the wire; husk targets x86-64 and reads it natively.
struct [[gnu::packed]] VsockPacketHeader {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len;
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
};
static_assert(sizeof(VsockPacketHeader) == 44);
inline constexpr uint32_t vsock_header_size = sizeof(VsockPacketHeader);

} // namespace husk

// NetBackend: where a NetDevice's frames go and come from (a tap on the event loop's io_uring in
// runtime/net/, a socketpair or a fake in tests). Frames move straight between the backend and
// guest memory through iovecs, each frame preceded by its 12-byte virtio_net_hdr_v1, which is
// also the tap's IFF_VNET_HDR layout (TUNSETVNETHDRSZ 12), so a backend never copies or converts.
//
// Completion: every start_* call that succeeds is reported exactly once, later, through
// NetBackendEvents with the result of the read or write (bytes or -errno); never from inside the
// start_* call. iovec arrays and the memory they describe stay valid until then. At most one
// receive is in flight; cancel_receive() makes it report soon (-ECANCELED, or the frame if the
// read already finished).
//
// Threading: every call in both directions happens on the VMM's event thread.
#pragma once

#include "runtime/base/result.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <sys/uio.h>

namespace husk {

// What the guest accepted to receive: partial checksums and TCP segmentation offload. The tap
// then hands it such frames (TUNSETOFFLOAD), and never any other kind.
struct RxOffloads {
    bool checksum { false };
    bool tso4 { false };
    bool tso6 { false };
    bool operator==(RxOffloads const&) const = default;
};

class NetBackendEvents {
public:
    virtual ~NetBackendEvents() = default;
    // One frame (header included) of `result` bytes was read, or -errno.
    virtual void on_net_received(int64_t result) = 0;
    virtual void on_net_transmitted(uint64_t tag, int64_t result) = 0;
    // The timer of start_timer() expired.
    virtual void on_net_timer() = 0;
};

class NetBackend {
public:
    virtual ~NetBackend() = default;

    virtual void set_events(NetBackendEvents* events) = 0;
    // Which offloaded frames the backend may deliver from now on. Called before the first
    // receive of each activation, on the event thread.
    virtual Result<void> set_receive_offloads(RxOffloads offloads) = 0;
    // Reads the next frame into `buffers`; a frame larger than them is reported with its full
    // length (the caller sees it was cut and drops it).
    virtual Result<void> start_receive(std::span<iovec const> buffers) = 0;
    virtual void cancel_receive() = 0;
    // Writes one frame gathered from `buffers`; `tag` comes back with the result.
    virtual Result<void> start_transmit(uint64_t tag, std::span<iovec const> buffers) = 0;
    // Calls on_net_timer() once after `delay` (rate limiting, retries). Several may be pending.
    virtual Result<void> start_timer(std::chrono::nanoseconds delay) = 0;
};

} // namespace husk

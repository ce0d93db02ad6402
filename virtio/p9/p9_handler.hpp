// P9Handler: what serves the 9P messages a P9Device receives (the confined file server of
// runtime/share/, a fake in tests). Called on the event thread, one message at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <sys/uio.h>

namespace husk {

class P9Handler {
public:
    virtual ~P9Handler() = default;
    // The largest message the handler takes or sends (its msize ceiling): the device refuses
    // longer requests and never offers the handler a larger reply buffer.
    virtual uint32_t max_message_size() const = 0;
    // Serves one request message and writes the reply into `reply` (sized by the driver's
    // writable buffers, at most max_message_size()). Returns the reply's length; 0 means the
    // request could not be answered at all (no readable 9P header).
    virtual size_t handle(std::span<uint8_t const> request, std::span<uint8_t> reply) = 0;
    // A Twrite whose data stayed in guest memory (zero-copy): `header` is its fixed part
    // (p9::twrite_header_size bytes), `data` the guest buffers holding its `data_bytes` bytes, to
    // hand to a vectored write (never to dereference: the guest may change them meanwhile, which
    // only changes what is written). Returns the reply's length like handle().
    virtual size_t handle_write(
        std::span<uint8_t const> header, std::span<iovec const> data, uint64_t data_bytes, std::span<uint8_t> reply)
        = 0;

    struct ReadReply {
        size_t header_length { 0 }; // as handle()'s return value: 0 means no reply at all
        uint64_t data_bytes { 0 }; // what went into `data`; 0 unless the reply is an Rread
    };
    // A Tread whose data goes straight into guest memory (zero-copy): `request` is the whole
    // Tread (p9::tread_size bytes), `data` the guest's writable buffers that follow the room for
    // the Rread header, `data_bytes` their total. The handler reads the file into `data` (one
    // vectored read) and writes the reply's header — its size field counting the data too — or an
    // Rlerror into `reply`.
    virtual ReadReply handle_read(std::span<uint8_t const> request, std::span<iovec const> data,
        uint64_t data_bytes, std::span<uint8_t> reply)
        = 0;
};

} // namespace husk

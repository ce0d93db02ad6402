// StreamDeframer: splits a byte stream into Ethernet frames, each sent as a 4-byte big-endian
// length followed by that many bytes of frame. That is the framing of qemu's `-netdev stream`
// and of passt's socket (passt's tap_send: htonl(len), then the frame). A stream has no frame
// boundaries of its own, so reads end anywhere: inside a length, inside a frame, or several
// frames in. The deframer keeps what was read in its own buffer until a whole frame is there.
//
// A declared length of 0 or above `max_frame_length` cannot be skipped safely (the next length
// would be read from the middle of garbage): the stream is then broken for good, and every
// later peek() says so. Pure (no I/O), so every case is unit-tested and fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace husk {

class StreamDeframer {
public:
    static constexpr size_t length_prefix_size = 4;

    // Room for a whole largest frame after a partial one, so a read never stalls for want of
    // space: twice (prefix + largest frame).
    explicit StreamDeframer(uint32_t max_frame_length);

    enum class Status {
        NeedMore, // no complete frame buffered yet
        Frame, // `frame` is the next frame
        Broken, // a length of 0 or above the maximum was read: nothing further can be trusted
    };
    struct Next {
        Status status { Status::NeedMore };
        std::span<uint8_t const> frame;
        uint32_t declared_length { 0 }; // for Broken: the length that broke it
    };

    // Where the next read may put its bytes: never empty when peek() says NeedMore. May
    // move the buffered bytes to the front, which invalidates spans peek() returned.
    std::span<uint8_t> free_space();
    // `bytes` of free_space() now hold stream data.
    void commit(size_t bytes);
    // The next frame, if one is complete. Does not consume it.
    Next peek() const;
    // Drops the frame peek() returned last (Status::Frame only).
    void pop();

    size_t buffered_bytes() const { return m_end - m_start; }
    uint32_t max_frame_length() const { return m_max_frame_length; }

private:
    uint32_t m_max_frame_length;
    std::vector<uint8_t> m_buffer;
    size_t m_start { 0 }; // the first byte not consumed
    size_t m_end { 0 }; // one past the last byte read
};

} // namespace husk

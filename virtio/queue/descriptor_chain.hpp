// DescriptorChain: one request popped from a virtqueue, as a validated copy of its descriptors.
// The device works only on this copy, so the guest rewriting its descriptor table afterwards
// changes nothing (no double fetch). Device-readable buffers come before device-writable ones.
#pragma once

#include "runtime/memory/guest_address.hpp"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace husk {

enum class BufferAccess : uint8_t {
    DeviceReadable, // driver → device data
    DeviceWritable, // device → driver data
};

struct ChainBuffer {
    GuestAddress address;
    uint32_t length { 0 };
    BufferAccess access { BufferAccess::DeviceReadable };
};

class DescriptorChain {
public:
    DescriptorChain(uint16_t head, std::vector<ChainBuffer> buffers)
        : m_head(head)
        , m_buffers(std::move(buffers))
    {
        // 64-bit sums: at most a few hundred 32-bit lengths, so these cannot overflow.
        for (auto const& buffer : m_buffers)
            (buffer.access == BufferAccess::DeviceReadable ? m_readable_length : m_writable_length) += buffer.length;
    }

    // The descriptor index the driver knows this request by; goes back in the used ring.
    uint16_t head() const { return m_head; }
    std::span<ChainBuffer const> buffers() const { return m_buffers; }
    uint64_t readable_length() const { return m_readable_length; }
    uint64_t writable_length() const { return m_writable_length; }

private:
    uint16_t m_head { 0 };
    std::vector<ChainBuffer> m_buffers;
    uint64_t m_readable_length { 0 };
    uint64_t m_writable_length { 0 };
};

} // namespace husk

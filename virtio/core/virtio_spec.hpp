// Transport-independent virtio 1.2 constants: device status bits (§2.1), reserved feature bits
// (§6) and the device types husk implements (§5). Ring layouts live in virtio/queue/.
#pragma once

#include <bit>
#include <cstdint>

namespace husk::virtio {

// Ring structures and registers are little-endian; husk targets x86-64 and reads them natively.
static_assert(std::endian::native == std::endian::little, "virtio structures are read natively");

// Device status field (§2.1). The driver sets these bits cumulatively; 0 means reset.
namespace status {
    inline constexpr uint32_t acknowledge = 1;
    inline constexpr uint32_t driver = 2;
    inline constexpr uint32_t driver_ok = 4;
    inline constexpr uint32_t features_ok = 8;
    inline constexpr uint32_t device_needs_reset = 64;
    inline constexpr uint32_t failed = 128;
} // namespace status

// Feature bits, as bit numbers (§6 and §2.7).
namespace feature {
    inline constexpr unsigned indirect_desc = 28;
    inline constexpr unsigned event_idx = 29;
    inline constexpr unsigned version_1 = 32;
} // namespace feature

constexpr uint64_t feature_mask(unsigned bit) { return uint64_t { 1 } << bit; }
constexpr bool has_feature(uint64_t features, unsigned bit) { return (features & feature_mask(bit)) != 0; }

// Device IDs (§5).
enum class DeviceType : uint32_t {
    Net = 1,
    Block = 2,
    Console = 3,
    Entropy = 4,
    NineP = 9, // virtio-9p (a 9P transport)
    Vsock = 19,
};

// Largest queue any husk device offers: bounds every per-queue allocation and chain walk.
inline constexpr uint16_t max_queue_size = 256;

} // namespace husk::virtio

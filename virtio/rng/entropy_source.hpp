// EntropySource: where virtio-rng gets its bytes. Production reads the host kernel's CSPRNG with
// getrandom(2); tests substitute a deterministic or failing source.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <span>

namespace husk {

class EntropySource {
public:
    virtual ~EntropySource() = default;
    // Fills all of `destination` with random bytes, or fails.
    virtual Result<void> fill(std::span<uint8_t> destination) = 0;
};

class GetrandomEntropySource final : public EntropySource {
public:
    Result<void> fill(std::span<uint8_t> destination) override;
};

} // namespace husk

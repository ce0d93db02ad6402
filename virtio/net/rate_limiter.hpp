// RateLimiter: the bytes and packets budgets of one direction of a network device, each an
// optional TokenBucket (Firecracker's RateLimiter: bandwidth and ops). A frame passes only when
// both budgets allow it; a blocked direction is retried after time_until() (the device arms a
// timer on the event loop). Receive frames are sized only after the tap read, so receiving asks
// may_start() before and charges the real size after, carrying any excess as debt.
#pragma once

#include "virtio/net/token_bucket.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace husk {

struct RateLimiterConfig {
    std::optional<TokenBucketConfig> bytes;
    std::optional<TokenBucketConfig> packets;
    bool is_unlimited() const { return !bytes && !packets; }
    bool operator==(RateLimiterConfig const&) const = default;
};

class RateLimiter {
public:
    RateLimiter(RateLimiterConfig const& config, RateClock::time_point now);

    // One frame of `bytes` if both budgets allow it now; takes nothing otherwise.
    bool consume(uint64_t bytes, RateClock::time_point now);
    // Whether a frame of unknown size may start: a packet token and any byte token are there.
    bool may_start(RateClock::time_point now);
    // One frame of `bytes` that already passed (after may_start()): taken, into debt if need be.
    void charge(uint64_t bytes, RateClock::time_point now);
    // When to retry a frame of `bytes` (0: now); with bytes 0, when may_start() turns true.
    std::chrono::nanoseconds time_until(uint64_t bytes, RateClock::time_point now);

    bool is_unlimited() const { return !m_bytes && !m_packets; }

private:
    std::optional<TokenBucket> m_bytes;
    std::optional<TokenBucket> m_packets;
};

} // namespace husk

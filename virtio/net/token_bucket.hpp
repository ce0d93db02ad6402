// TokenBucket: one budget of a rate limiter, with Firecracker's semantics: a bucket of `size`
// tokens that refills completely in `refill_time` (continuously, in proportion to the time
// passed), plus a one-time burst spent first and never refilled. A request larger than the
// whole bucket is let through when the bucket is full and leaves it in debt, so it is paid for
// by the time that follows (Firecracker's "over-consumption"). Time is passed in by the caller,
// so tests drive it with an injected clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace husk {

using RateClock = std::chrono::steady_clock;

struct TokenBucketConfig {
    uint64_t size { 0 }; // tokens; > 0
    uint64_t one_time_burst { 0 };
    std::chrono::milliseconds refill_time { 1000 }; // > 0
    bool operator==(TokenBucketConfig const&) const = default;
};

class TokenBucket {
public:
    // Starts full at `now`. `config` must have size > 0 and refill_time > 0 (checked where parsed).
    TokenBucket(TokenBucketConfig const& config, RateClock::time_point now);

    // Takes `tokens` when the budget (burst first) holds them, or when the request exceeds the
    // bucket and the bucket is full (it then goes into debt). Otherwise takes nothing: false.
    bool consume(uint64_t tokens, RateClock::time_point now);
    // Takes `tokens` whatever the budget, going into debt if need be: for transfers whose size is
    // only known after they happened.
    void charge(uint64_t tokens, RateClock::time_point now);
    // Whether any token is there (burst or a positive budget).
    bool has_tokens(RateClock::time_point now);
    // How long until consume(tokens) succeeds (0 if it would now).
    std::chrono::nanoseconds time_until(uint64_t tokens, RateClock::time_point now);

    // Whole tokens in the refilling budget (negative in debt), burst excluded.
    int64_t budget(RateClock::time_point now);
    uint64_t one_time_burst() const { return m_burst; }
    TokenBucketConfig const& config() const { return m_config; }

private:
    void refill(RateClock::time_point now);
    // Budget in token-nanoseconds of refill time: exact integer refills, no drift.
    __int128 scaled(uint64_t tokens) const;

    TokenBucketConfig m_config;
    __int128 m_refill_ns { 0 }; // refill_time in ns
    __int128 m_budget { 0 }; // tokens × refill_time_ns; at most size × refill_time_ns
    uint64_t m_burst { 0 };
    RateClock::time_point m_last_refill;
};

} // namespace husk

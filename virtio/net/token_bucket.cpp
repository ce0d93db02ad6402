// TokenBucket: refill in exact integer arithmetic (tokens scaled by the refill time in ns).
#include "virtio/net/token_bucket.hpp"

#include <algorithm>

namespace husk {

TokenBucket::TokenBucket(TokenBucketConfig const& config, RateClock::time_point now)
    : m_config(config)
    , m_refill_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(config.refill_time).count())
    , m_burst(config.one_time_burst)
    , m_last_refill(now)
{
    if (m_refill_ns <= 0)
        m_refill_ns = 1; // config checks refuse this; never divide by zero regardless
    m_budget = scaled(m_config.size);
}

__int128 TokenBucket::scaled(uint64_t tokens) const { return static_cast<__int128>(tokens) * m_refill_ns; }

void TokenBucket::refill(RateClock::time_point now)
{
    if (now <= m_last_refill)
        return; // a clock that went back (or no time passed) adds nothing
    __int128 elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_last_refill).count();
    m_last_refill = now;
    // size tokens per refill_time: elapsed × size token-ns. Capped at a full bucket.
    m_budget = std::min(m_budget + elapsed * m_config.size, scaled(m_config.size));
}

bool TokenBucket::consume(uint64_t tokens, RateClock::time_point now)
{
    refill(now);
    uint64_t from_burst = std::min(tokens, m_burst);
    uint64_t rest = tokens - from_burst;
    __int128 needed = scaled(rest);
    bool full = m_budget >= scaled(m_config.size);
    if (needed > m_budget && !(rest > m_config.size && full))
        return false;
    m_burst -= from_burst;
    m_budget -= needed;
    return true;
}

void TokenBucket::charge(uint64_t tokens, RateClock::time_point now)
{
    refill(now);
    uint64_t from_burst = std::min(tokens, m_burst);
    m_burst -= from_burst;
    m_budget -= scaled(tokens - from_burst);
}

bool TokenBucket::has_tokens(RateClock::time_point now)
{
    refill(now);
    return m_burst > 0 || m_budget >= scaled(1);
}

std::chrono::nanoseconds TokenBucket::time_until(uint64_t tokens, RateClock::time_point now)
{
    refill(now);
    uint64_t rest = tokens - std::min(tokens, m_burst);
    // An oversized request waits for a full bucket; any other for its own tokens.
    __int128 target = scaled(std::min(rest, m_config.size));
    if (target <= m_budget)
        return std::chrono::nanoseconds(0);
    __int128 missing = target - m_budget;
    __int128 wait = (missing + m_config.size - 1) / m_config.size; // ns, rounded up
    return std::chrono::nanoseconds(static_cast<int64_t>(std::min<__int128>(wait, INT64_MAX)));
}

int64_t TokenBucket::budget(RateClock::time_point now)
{
    refill(now);
    __int128 whole = m_budget / m_refill_ns;
    return static_cast<int64_t>(std::clamp<__int128>(whole, INT64_MIN, INT64_MAX));
}

} // namespace husk

// RateLimiter: both budgets must agree; a refusal of one gives back what the other took.
#include "virtio/net/rate_limiter.hpp"

#include <algorithm>

namespace husk {

RateLimiter::RateLimiter(RateLimiterConfig const& config, RateClock::time_point now)
{
    if (config.bytes)
        m_bytes.emplace(*config.bytes, now);
    if (config.packets)
        m_packets.emplace(*config.packets, now);
}

bool RateLimiter::consume(uint64_t bytes, RateClock::time_point now)
{
    // Check both before taking from either, so a refusal takes nothing.
    if (m_bytes && m_bytes->time_until(bytes, now).count() > 0)
        return false;
    if (m_packets && m_packets->time_until(1, now).count() > 0)
        return false;
    if (m_bytes)
        (void)m_bytes->consume(bytes, now);
    if (m_packets)
        (void)m_packets->consume(1, now);
    return true;
}

bool RateLimiter::may_start(RateClock::time_point now)
{
    return (!m_bytes || m_bytes->has_tokens(now)) && (!m_packets || m_packets->has_tokens(now));
}

void RateLimiter::charge(uint64_t bytes, RateClock::time_point now)
{
    if (m_bytes)
        m_bytes->charge(bytes, now);
    if (m_packets)
        m_packets->charge(1, now);
}

std::chrono::nanoseconds RateLimiter::time_until(uint64_t bytes, RateClock::time_point now)
{
    std::chrono::nanoseconds wait { 0 };
    if (m_bytes)
        wait = std::max(wait, m_bytes->time_until(std::max<uint64_t>(bytes, 1), now));
    if (m_packets)
        wait = std::max(wait, m_packets->time_until(1, now));
    return wait;
}

} // namespace husk

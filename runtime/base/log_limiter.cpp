// LogLimiter: first lines in full, then exponentially fewer, with a count.
#include "runtime/base/log_limiter.hpp"

#include <bit>

namespace husk {

LogLimiter::Decision LogLimiter::admit(uint64_t source)
{
    std::lock_guard lock(m_mutex);
    Counts& counts = m_sources[source];
    ++counts.seen;
    if (counts.seen > m_full_lines && !std::has_single_bit(counts.seen))
        return {};
    Decision decision { true, counts.seen - counts.seen_at_last_write - 1 };
    counts.seen_at_last_write = counts.seen;
    return decision;
}

} // namespace husk

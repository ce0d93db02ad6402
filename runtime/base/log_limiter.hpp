// LogLimiter: bounds how many lines one source of log messages can write, because most
// warnings are caused by the guest (a driver looping over a bad feature negotiation, a queue
// fault per kick) and the log is a file on the host. Each source writes its first
// `full_lines` lines, then only when its count reaches a power of two, each of those lines
// saying how many were suppressed since the previous one. A source that fires n times thus
// writes at most full_lines + log2(n) lines, whatever the guest does.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace husk {

class LogLimiter {
public:
    static constexpr uint64_t default_full_lines = 10;
    explicit LogLimiter(uint64_t full_lines = default_full_lines)
        : m_full_lines(full_lines)
    {
    }

    struct Decision {
        bool write { false };
        uint64_t suppressed_before { 0 }; // lines of this source dropped since its last written one
    };
    // Thread-safe. `source` identifies the call site (any stable value, e.g. a file:line hash).
    Decision admit(uint64_t source);

private:
    struct Counts {
        uint64_t seen { 0 };
        uint64_t seen_at_last_write { 0 };
    };
    uint64_t m_full_lines;
    std::mutex m_mutex;
    std::unordered_map<uint64_t, Counts> m_sources;
};

} // namespace husk

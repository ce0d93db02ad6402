// SetupProfile: where husk-vmm's host-side setup (process start to the first KVM_RUN) spends its
// time, phase by phase, with the CPU time of the phase's thread beside its wall time: a phase
// whose wall time is far above its CPU time is waiting in the kernel (KVM's memslot and irqchip
// updates wait for SRCU grace periods). Recorded always (a phase costs two clock reads), printed
// by husk-vmm --profile-setup, read by bench/setup.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace husk {

class SetupProfile {
public:
    using Clock = std::chrono::steady_clock;

    // The process's profile: husk-vmm builds one machine per process.
    static SetupProfile& process();

    void set_origin(Clock::time_point origin) { m_origin_ns.store(to_ns(origin)); }
    // Thread-safe; phases past the capacity are dropped (and counted).
    void record(std::string_view phase, Clock::time_point start, Clock::time_point end, int64_t cpu_ns);

    // One JSON object: {"origin_monotonic_ns":N,"first_run_us":N|null,"phases":[{"phase":"kvm",
    // "start_us":N,"wall_us":N,"cpu_us":N},...],"dropped":N}. Times are from the origin (main()'s
    // first instruction); origin_monotonic_ns is CLOCK_MONOTONIC, so a parent that noted the
    // time before exec can add exec and dynamic loading to the total.
    std::string to_json(std::optional<Clock::time_point> first_run) const;

    static int64_t thread_cpu_ns();

private:
    static int64_t to_ns(Clock::time_point time)
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
    }

    struct Entry {
        std::array<char, 32> name {};
        int64_t start_ns { 0 };
        int64_t end_ns { 0 };
        int64_t cpu_ns { 0 };
        std::atomic<bool> complete { false };
    };
    static constexpr size_t capacity = 48;
    std::array<Entry, capacity> m_entries;
    std::atomic<size_t> m_next { 0 };
    std::atomic<int64_t> m_origin_ns { 0 };
};

// Records the scope it lives in as one phase of the process's setup profile.
class SetupPhase {
public:
    explicit SetupPhase(std::string_view name)
        : m_name(name)
        , m_start(SetupProfile::Clock::now())
        , m_cpu_start(SetupProfile::thread_cpu_ns())
    {
    }
    SetupPhase(SetupPhase const&) = delete;
    SetupPhase& operator=(SetupPhase const&) = delete;
    ~SetupPhase()
    {
        SetupProfile::process().record(
            m_name, m_start, SetupProfile::Clock::now(), SetupProfile::thread_cpu_ns() - m_cpu_start);
    }

private:
    std::string_view m_name; // a string literal
    SetupProfile::Clock::time_point m_start;
    int64_t m_cpu_start;
};

} // namespace husk

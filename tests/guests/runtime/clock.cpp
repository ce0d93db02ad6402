#include "clock.hpp"

#include "io.hpp"

namespace guest {

namespace {
    constexpr uint32_t kvm_cpuid_signature = 0x4000'0000;
    constexpr uint32_t kvm_cpuid_features = 0x4000'0001;
    constexpr uint32_t kvm_feature_clocksource2 = 1u << 3;
    constexpr uint32_t msr_kvm_system_time_new = 0x4b56'4d01;

    // struct pvclock_vcpu_time_info (Linux, arch/x86/include/asm/pvclock-abi.h).
    struct PvclockTimeInfo {
        uint32_t version;
        uint32_t pad0;
        uint64_t tsc_timestamp;
        uint64_t system_time;
        uint32_t tsc_to_system_mul;
        int8_t tsc_shift;
        uint8_t flags;
        uint8_t pad[2];
    };
    static_assert(sizeof(PvclockTimeInfo) == 32);

    alignas(64) PvclockTimeInfo volatile time_info;
    bool clock_running = false;
    uint64_t fallback_ticks = 0;

    void cpuid(uint32_t leaf, uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d)
    {
        asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0));
    }

    uint64_t rdtsc()
    {
        uint32_t low, high;
        asm volatile("rdtsc" : "=a"(low), "=d"(high));
        return uint64_t { high } << 32 | low;
    }
} // namespace

bool start_clock()
{
    uint32_t a, b, c, d;
    cpuid(kvm_cpuid_signature, a, b, c, d);
    // "KVMKVMKVM\0\0\0"
    if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x0000004d)
        return false;
    cpuid(kvm_cpuid_features, a, b, c, d);
    if (!(a & kvm_feature_clocksource2))
        return false;
    uint64_t address = reinterpret_cast<uint64_t>(&time_info) | 1; // bit 0: enable
    asm volatile(
        "wrmsr"
        :
        : "c"(msr_kvm_system_time_new), "a"(static_cast<uint32_t>(address)), "d"(static_cast<uint32_t>(address >> 32)));
    clock_running = true;
    return true;
}

uint64_t now_ns()
{
    if (!clock_running)
        return fallback_ticks += 1000; // a microsecond per call: waits still end
    for (;;) {
        uint32_t version = time_info.version;
        compiler_barrier();
        uint64_t delta = rdtsc() - time_info.tsc_timestamp;
        uint64_t system_time = time_info.system_time;
        uint32_t mul = time_info.tsc_to_system_mul;
        int8_t shift = time_info.tsc_shift;
        compiler_barrier();
        if ((version & 1) || version != time_info.version)
            continue;
        delta = shift < 0 ? delta >> -shift : delta << shift;
        return system_time + static_cast<uint64_t>((static_cast<unsigned __int128>(delta) * mul) >> 32);
    }
}

} // namespace guest

#include "second_vcpu.hpp"

#include "clock.hpp"
#include "io.hpp"

#include <cstring>

extern "C" char const ap_trampoline_start[];
extern "C" char const ap_trampoline_end[];

namespace guest {

namespace {
    constexpr uint64_t trampoline_base = 0x30000; // ap_trampoline.S
    constexpr uint64_t lapic = 0xfee0'0000;
    constexpr uint64_t icr_low = lapic + 0x300, icr_high = lapic + 0x310;
    constexpr uint32_t delivery_init = 0x500, delivery_startup = 0x600, level_assert = 0x4000;
    constexpr uint32_t apic_id_of_second = 1;

    SecondVcpuWork volatile g_work = nullptr;
    uint64_t volatile g_argument = 0;
    bool volatile g_running = false;
    bool volatile g_stop = false;
    bool volatile g_stopped = false;
    uint64_t volatile g_rounds = 0;

    void send_ipi(uint32_t command)
    {
        mmio_write32(icr_high, apic_id_of_second << 24);
        mmio_write32(icr_low, command);
    }

    void wait_ns(uint64_t duration)
    {
        uint64_t until = now_ns() + duration;
        while (now_ns() < until)
            cpu_relax();
    }
} // namespace

bool start_second_vcpu(SecondVcpuWork work, uint64_t argument)
{
    memcpy(reinterpret_cast<void*>(trampoline_base), ap_trampoline_start,
        static_cast<size_t>(ap_trampoline_end - ap_trampoline_start));
    g_work = work;
    g_argument = argument;
    full_barrier();
    send_ipi(delivery_init | level_assert);
    wait_ns(10 * milliseconds);
    for (int attempt = 0; attempt < 2 && !g_running; ++attempt) {
        send_ipi(delivery_startup | level_assert | static_cast<uint32_t>(trampoline_base >> 12));
        uint64_t until = now_ns() + 1'000 * milliseconds;
        while (!g_running && now_ns() < until)
            cpu_relax();
    }
    return g_running;
}

void stop_second_vcpu()
{
    if (!g_running)
        return;
    g_stop = true;
    uint64_t until = now_ns() + 5'000 * milliseconds;
    while (!g_stopped && now_ns() < until)
        cpu_relax();
}

uint64_t second_vcpu_rounds() { return g_rounds; }

} // namespace guest

extern "C" [[noreturn]] void ap_main()
{
    using namespace guest;
    g_running = true;
    while (!g_stop) {
        g_work(g_argument);
        g_rounds = g_rounds + 1;
    }
    g_stopped = true;
    for (;;)
        cpu_relax();
}

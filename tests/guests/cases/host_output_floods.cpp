// Cases that try to flood the host through husk-vmm's own output: a warning the guest can
// trigger at will (an unoffered feature at FEATURES_OK, a malformed chain), over and over, and
// the serial console. The lab suite bounds husk-vmm's log and console output for every case;
// these make sure there is something to bound. They run against the rng device only: the
// output paths are shared, three copies would prove nothing more.
#include "case_helpers.hpp"

namespace guest {

HOSTILE_CASE("rng", log_flood_feature_renegotiation)
{
    auto& device = session.device;
    for (uint32_t round = 0; round < 5'000; ++round) {
        device.reset();
        device.add_status(vstatus::acknowledge);
        device.add_status(vstatus::driver);
        device.write_features(~0ull);
        device.write(mmio::status, vstatus::acknowledge | vstatus::driver | vstatus::features_ok);
    }
    return After::Reinit;
}

HOSTILE_CASE("rng", log_flood_malformed_chains)
{
    auto& queue = data_queue(session);
    for (uint32_t round = 0; round < 5'000; ++round) {
        queue.set(0, guest_ram_size + round, 64, flag_write);
        queue.submit(0);
        UsedElement used {};
        queue.wait_used(used, short_wait_budget);
    }
    return After::Probe;
}

HOSTILE_CASE("rng", console_flood)
{
    // 80 MiB to COM1 (past husk's 64 MiB console cap), a page per REP OUTSB, or as much as 20 s
    // allow: hardware KVM hands a string OUT to husk-vmm a page per exit, PVM a byte per exit.
    constexpr uint64_t chunk = 4096, total = 80ull << 20;
    constexpr uint64_t time_limit = 20'000 * milliseconds;
    auto* text = reinterpret_cast<char*>(scratch(chunk));
    for (uint64_t i = 0; i < chunk; ++i)
        text[i] = (i % 64 == 63) ? '\n' : static_cast<char>('a' + i % 26);
    uint64_t deadline = now_ns() + time_limit;
    uint64_t sent = 0;
    for (; sent < total && now_ns() < deadline; sent += chunk) {
        char const* from = text;
        uint64_t count = chunk;
        asm volatile("rep outsb" : "+S"(from), "+c"(count) : "d"(uint16_t { 0x3f8 }) : "memory");
    }
    print("\nhostile: console bytes sent: ");
    print_decimal(sent);
    println("");
    return After::Probe;
}

} // namespace guest

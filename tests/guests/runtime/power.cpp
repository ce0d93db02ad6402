#include "power.hpp"

#include "console.hpp"
#include "guest-init/protocol/status_port.hpp"
#include "io.hpp"

namespace guest {

namespace {
    constexpr uint16_t i8042_command_port = 0x64;
    constexpr uint8_t i8042_pulse_reset = 0xfe;
} // namespace

void finish(Verdict verdict)
{
    print("hostile: verdict ");
    print_decimal(static_cast<uint8_t>(verdict));
    println(verdict == Verdict::Passed ? " (passed)" : " (FAILED)");
    namespace port = husk::status_port;
    outl(port::base + port::job_exit_code, static_cast<uint8_t>(verdict));
    outl(port::base + port::shutdown_intent, port::shutdown_intent_value);
    for (;;) {
        outb(i8042_command_port, i8042_pulse_reset);
        cpu_relax();
    }
}

} // namespace guest

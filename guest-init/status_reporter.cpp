// Port I/O for the status device. Only StatusReporter, which exists only after ioperm()
// succeeded, executes in/out instructions: without the permission they would fault PID 1.
#include "guest-init/status_reporter.hpp"

#include <sys/io.h>

namespace husk::init {

namespace {

    using namespace status_port;

    void write_byte(uint16_t port, uint8_t value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
    void write_word(uint16_t port, uint32_t value) { asm volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }

    constexpr uint16_t register_port(uint16_t offset) { return static_cast<uint16_t>(base + offset); }

} // namespace

StatusWrite status_write_for(JobOutcome outcome)
{
    switch (outcome.kind) {
    case JobOutcome::Kind::Exited:
        return { register_port(job_exit_code), outcome.value };
    case JobOutcome::Kind::Signaled:
        return { register_port(job_signal), outcome.value };
    case JobOutcome::Kind::SpawnFailed:
        break;
    }
    return { register_port(job_spawn_error), outcome.value };
}

Result<StatusReporter> StatusReporter::create()
{
    if (ioperm(base, length, 1) < 0)
        return fail_errno("ioperm for the status device");
    return StatusReporter();
}

void StatusReporter::report_boot() const { write_byte(register_port(boot_marker), boot_marker_value); }

void StatusReporter::report_agent_listening() const
{
    write_word(register_port(agent_listening), agent_listening_value);
}

void StatusReporter::report_job(JobOutcome outcome) const
{
    auto write = status_write_for(outcome);
    write_word(write.port, write.value);
}

void StatusReporter::report_shutdown_intent() const
{
    write_word(register_port(shutdown_intent), shutdown_intent_value);
}

} // namespace husk::init

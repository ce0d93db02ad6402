// Status reporting to the host through the husk status device (guest-init/protocol/status_port.hpp):
// the boot marker, the agent listening, the job outcome and the shutdown intent, written with port I/O so they reach
// the VMM without any virtio device. On a machine without the device (QEMU) the writes go to
// unclaimed ports, which is harmless.
#pragma once

#include "guest-init/job.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>

namespace husk::init {

// One 32-bit register write: port number and value.
struct StatusWrite {
    uint16_t port;
    uint32_t value;
    bool operator==(StatusWrite const&) const = default;
};

// The register write that tells the host how the job ended.
StatusWrite status_write_for(JobOutcome outcome);

class StatusReporter {
public:
    // Asks the kernel for access to the device's ports (ioperm). Fails without CAP_SYS_RAWIO or
    // CONFIG_X86_IOPL_IOPERM; husk-init then runs without status reporting rather than fault.
    static Result<StatusReporter> create();

    void report_boot() const;
    // Right after the agent's listen(): the host stops holding connects for it.
    void report_agent_listening() const;
    void report_job(JobOutcome outcome) const;
    void report_shutdown_intent() const;

private:
    StatusReporter() = default;
};

} // namespace husk::init

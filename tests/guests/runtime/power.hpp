// The end of a case: its verdict goes to husk's status device as the "job exit code"
// (guest-init/protocol/status_port.hpp), then the guest announces a clean shutdown and resets
// through the i8042, exactly as husk-init does, so husk-vmm stops with guest-shutdown and puts
// the verdict in its JSON report.
#pragma once

#include <cstdint>

namespace guest {

enum class Verdict : uint8_t {
    Passed = 0,
    ProbeAfterAttackFailed = 1, // a well-formed request after the attack did not work
    ProbeAfterResetFailed = 2, // a well-formed request after a device reset did not work
    SetupFailed = 3, // the target device is missing or refused a normal initialisation
    UnknownCase = 4,
    DeviceMisbehaved = 5, // the case saw the device do something it must not (e.g. write a read-only disk)
};

[[noreturn]] void finish(Verdict verdict);

} // namespace guest

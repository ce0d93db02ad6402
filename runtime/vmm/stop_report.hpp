// StopReport: how a VM run ended, what the guest reported, and how long each phase took;
// serialised as one JSON line for --report and for supervisors (CLI, SDK).
#pragma once

#include "runtime/devices/status_device.hpp"
#include "runtime/vmm/stop_reason.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace husk {

struct StopTimings {
    std::optional<std::chrono::microseconds> setup; // process start -> first KVM_RUN
    std::optional<std::chrono::microseconds> boot_to_init; // first KVM_RUN -> husk-init's boot marker
    std::chrono::microseconds total { 0 }; // process start -> VM stopped
};

// The same run's moments on CLOCK_MONOTONIC (steady_clock), which a supervisor on the same host
// reads too, so it can put them beside its own (the SDK's step trace, docs/benchmarks.md).
struct StopClock {
    std::optional<std::chrono::steady_clock::time_point> start; // process start
    std::optional<std::chrono::steady_clock::time_point> first_run;
    std::optional<std::chrono::steady_clock::time_point> stopped; // vCPUs joined, devices stopped
};

struct StopReport {
    StopReason reason { StopReason::VmmError };
    std::string detail;
    GuestStatus guest;
    StopTimings timings;
    StopClock clock;
};

// One line, no trailing newline:
// {"stop_reason":"guest-shutdown","detail":"...","job":{"exit_code":0},"setup_us":1234,
//  "boot_to_init_us":56789,"total_us":60000,"invalid_status_writes":0,
//  "clock_us":{"start":N,"first_run":N,"boot_marker":N,"job_status":N,"shutdown_intent":N,"stopped":N}}
// job is {"exit_code":N}, {"signal":N}, {"spawn_error":"not-found"|...} or null; a timing the
// run never reached is null, in clock_us too (CLOCK_MONOTONIC in microseconds). Output is ASCII:
// control and non-ASCII characters are \u escapes, invalid UTF-8 becomes U+FFFD.
std::string to_json(StopReport const& report);

char const* spawn_error_name(status_port::SpawnError error);

} // namespace husk

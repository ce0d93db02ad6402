// StopReport JSON serialisation (nlohmann-json).
#include "runtime/vmm/stop_report.hpp"

#include <nlohmann/json.hpp>

namespace husk {

char const* spawn_error_name(status_port::SpawnError error)
{
    switch (error) {
    case status_port::SpawnError::NotFound:
        return "not-found";
    case status_port::SpawnError::PermissionDenied:
        return "permission-denied";
    case status_port::SpawnError::NotExecutable:
        return "not-executable";
    case status_port::SpawnError::BadWorkingDirectory:
        return "bad-working-directory";
    case status_port::SpawnError::Other:
        return "other";
    }
    return "other";
}

std::string to_json(StopReport const& report)
{
    // ordered_json: the keys stay in the documented order, for people reading the line.
    nlohmann::ordered_json json;
    json["stop_reason"] = stop_reason_name(report.reason);
    json["detail"] = report.detail;
    if (report.guest.exit_code)
        json["job"] = { { "exit_code", *report.guest.exit_code } };
    else if (report.guest.signal)
        json["job"] = { { "signal", *report.guest.signal } };
    else if (report.guest.spawn_error)
        json["job"] = { { "spawn_error", spawn_error_name(*report.guest.spawn_error) } };
    else
        json["job"] = nullptr;
    auto microseconds = [](std::optional<std::chrono::microseconds> value) {
        return value ? nlohmann::ordered_json(value->count()) : nlohmann::ordered_json(nullptr);
    };
    json["setup_us"] = microseconds(report.timings.setup);
    json["boot_to_init_us"] = microseconds(report.timings.boot_to_init);
    json["total_us"] = report.timings.total.count();
    json["invalid_status_writes"] = report.guest.invalid_writes;
    auto moment = [](std::optional<std::chrono::steady_clock::time_point> value) {
        if (!value)
            return nlohmann::ordered_json(nullptr);
        return nlohmann::ordered_json(
            std::chrono::duration_cast<std::chrono::microseconds>(value->time_since_epoch()).count());
    };
    json["clock_us"] = { { "start", moment(report.clock.start) }, { "first_run", moment(report.clock.first_run) },
        { "boot_marker", moment(report.guest.boot_marker_time) }, { "job_status", moment(report.guest.job_status_time) },
        { "shutdown_intent", moment(report.guest.shutdown_intent_time) }, { "stopped", moment(report.clock.stopped) } };
    // The detail may carry guest-influenced bytes: invalid UTF-8 becomes U+FFFD, never an error.
    return json.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace husk

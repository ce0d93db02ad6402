// SandboxState: teardown, and turning a VMM's death into an error that says what happened.
#include "sdk/src/sandbox_state.hpp"

#include "runtime/base/fd.hpp"
#include "sdk/src/step_trace.hpp"

#include <nlohmann/json.hpp>

namespace husk::detail {

namespace {

    // The "stop_reason" string of husk-vmm's JSON report, if the report has one. The report is
    // written by a process the guest may have influenced: anything malformed reads as absent.
    std::string stop_reason(std::string const& report_path)
    {
        auto report = read_file(report_path, 64 * 1024);
        if (!report)
            return {};
        auto json = nlohmann::json::parse(*report, nullptr, false);
        if (!json.is_object())
            return {};
        auto reason = json.find("stop_reason");
        if (reason == json.end() || !reason->is_string())
            return {};
        return reason->get<std::string>();
    }

    // husk-vmm's moments (its report's clock_us, CLOCK_MONOTONIC microseconds) as traced steps.
    void trace_vmm_clock(std::string const& report_path)
    {
        auto report = read_file(report_path, 64 * 1024);
        if (!report)
            return;
        auto json = nlohmann::json::parse(*report, nullptr, false);
        if (!json.is_object() || !json.contains("clock_us") || !json["clock_us"].is_object())
            return;
        for (auto const& [key, value] : json["clock_us"].items()) {
            if (value.is_number_integer())
                trace_step_at("husk-vmm: " + key,
                    std::chrono::steady_clock::time_point(std::chrono::microseconds(value.get<int64_t>())));
        }
    }

    std::string with_log(std::string message, std::string const& log_path, size_t lines)
    {
        auto tail = last_lines(log_path, lines);
        if (tail.empty())
            return message + " (husk-vmm logged nothing)";
        message += "; husk-vmm's last log lines:";
        for (auto const& line : tail)
            message += "\n  " + line;
        return message;
    }

} // namespace

bool SandboxState::is_clean_guest_shutdown(ChildExit exit) const
{
    // An adopted VMM's exit status is not ours to see; its report still is.
    bool exited_cleanly = !exit.known || (!exit.signaled && exit.value == 0);
    return exited_cleanly && stop_reason(report_path) == "guest-shutdown";
}

Error SandboxState::vm_died_error(ChildExit exit, char const* when) const
{
    std::string message = "husk-vmm " + describe_vmm_exit(exit) + " " + when;
    if (auto reason = stop_reason(report_path); !reason.empty())
        message += " (stop reason: " + reason + ")";
    bool booting = std::string_view(when) == "during boot";
    return Error { with_log(std::move(message), log_path, options.log_lines_in_errors), 0,
        booting ? ErrorKind::VmmStartFailed : ErrorKind::VmDied };
}

Error SandboxState::explain(Error reason) const
{
    if (!vmm)
        return reason;
    auto exit = vmm->peek_exit();
    // A connection that breaks usually means the VMM is going down: give it a moment to exit so
    // the caller learns why, not just that the stream ended.
    if (!exit && reason.kind != ErrorKind::GuestNotReady && vmm->wait_exit(death_grace))
        exit = vmm->peek_exit();
    if (exit)
        return vm_died_error(
            *exit, reason.kind == ErrorKind::GuestNotReady ? "during boot" : "while the sandbox was in use");
    if (reason.kind == ErrorKind::GuestNotReady)
        reason.message = with_log(std::move(reason.message), log_path, options.log_lines_in_errors);
    return reason;
}

void SandboxState::reap_networks() const
{
    constexpr std::chrono::seconds reaper_limit { 10 };
    auto reaper = VmmChild::spawn({ vmm_path, "--reap-networks" }, log_path);
    if (!reaper)
        return;
    if (!reaper->wait_exit(reaper_limit))
        reaper->kill();
    reaper->reap();
}

Result<void> SandboxState::stop()
{
    if (stopped)
        return {};
    stopped = true;
    bool killed = false;
    auto outcome = may_end_without_guest && client && vmm && !client->failure() ? end_vm() : power_off(killed);
    if (vmm) {
        vmm->reap();
        if (step_trace_enabled())
            trace_vmm_clock(report_path);
        // A killed launcher could not remove the sandbox's network namespace, tap, veth and
        // rules: husk-vmm's reaper does (docs/network-policy.md), now rather than at the next start.
        if (killed && networked)
            reap_networks();
    }
    if (passt)
        passt->stop();
    if (jail) {
        // The launcher normally removed the jail root and cgroup itself; not when it was killed.
        if (auto cleaned = jail->clean_up(); !cleaned && outcome)
            outcome = unexpected(std::move(cleaned).error());
        jail.reset();
        trace_step("jail cleaned up");
    }
    temp_dir.reset();
    trace_step("sandbox directory removed");
    return outcome;
}

Result<void> SandboxState::power_off(bool& killed)
{
    Result<void> outcome = fail(ErrorKind::AgentDisconnected, "the agent was not connected");
    if (client) {
        outcome = client->failure() ? Result<void>(unexpected(*client->failure()))
                                    : client->shutdown(std::chrono::steady_clock::now() + shutdown_ack_timeout);
        trace_step("shutdown answered");
        client->close(Error { "the sandbox was shut down", 0, ErrorKind::AgentDisconnected });
        trace_step("agent connection closed");
    }
    if (!vmm)
        return outcome;
    // An acknowledged Shutdown powers the guest off. A connection that ended instead of the
    // Ack may still be a clean power-off (the Ack was lost on the way, see
    // docs/guest-abi.md): the VMM's exit and stop report decide. Otherwise nothing will stop
    // the VMM.
    bool may_power_off = outcome || outcome.error().kind == ErrorKind::AgentDisconnected
        || outcome.error().kind == ErrorKind::VmDied;
    killed = !may_power_off || !vmm->wait_exit(vmm_exit_timeout);
    trace_step(killed ? "husk-vmm killed" : "husk-vmm exited");
    if (killed)
        vmm->kill();
    else if (!outcome && is_clean_guest_shutdown(*vmm->peek_exit()))
        outcome = {};
    return outcome;
}

Result<void> SandboxState::end_vm()
{
    client->close(Error { "the sandbox was shut down", 0, ErrorKind::AgentDisconnected });
    trace_step("agent connection closed");
    // husk-vmm stops the VM at once, reports and exits; a jailed one's launcher passes the signal
    // on and then removes the jail root and cgroup, as after a power-off.
    vmm->terminate();
    if (!vmm->wait_exit(vmm_exit_timeout)) {
        trace_step("husk-vmm killed");
        vmm->kill();
        return {};
    }
    trace_step("husk-vmm exited");
    return {};
}

} // namespace husk::detail

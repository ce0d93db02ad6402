// VcpuRunner: the vCPU thread loop and its exit handling.
#include "runtime/vmm/vcpu_runner.hpp"

#include "runtime/base/log.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/jail/seccomp.hpp"
#include "runtime/kvm/vcpu_kick.hpp"

#include <cinttypes>
#include <cstdio>
#include <linux/kvm.h>

namespace husk {

namespace {
    constexpr uint64_t rflags_interrupt_enable = 1ull << 9;
    // Unmapped accesses are normal (Linux probes legacy ports) but a guest can make millions: log
    // the first few, then only at powers of two.
    constexpr uint64_t unmapped_accesses_logged_in_full = 16;

    int64_t steady_now_ns()
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
} // namespace

VcpuRunner::VcpuRunner(Vcpu& vcpu, VcpuRunnerShared shared)
    : m_vcpu(vcpu)
    , m_shared(std::move(shared))
{
}

VcpuRunner::~VcpuRunner()
{
    if (!m_running)
        return;
    // A kick alone only interrupts one KVM_RUN: without a stop request the thread would enter the
    // next one and the join below would wait for the guest forever. First request wins, so a VM
    // that already stopped keeps its reason.
    m_shared.stop.request(StopReason::VmmError,
        "the runner of vCPU " + std::to_string(m_vcpu.index()) + " was destroyed while its thread ran");
    kick();
    join();
}

Result<void> VcpuRunner::start()
{
    int error = ::pthread_create(&m_thread, nullptr, &VcpuRunner::thread_entry, this);
    if (error != 0)
        return fail_errno("pthread_create for vCPU " + std::to_string(m_vcpu.index()), error);
    m_running = true;
    return {};
}

void VcpuRunner::kick()
{
    if (!m_running)
        return;
    if (auto kicked = kick_vcpu(m_vcpu, m_thread); !kicked)
        log_warn(kicked.error().message);
    // A parked thread waits on the condition variable, not in KVM_RUN: wake it to look at the
    // stop flag. Notifying under the lock cannot slip between its check and its wait.
    std::lock_guard lock(m_pause_lock);
    m_pause_changed.notify_all();
}

void VcpuRunner::request_pause()
{
    m_pause_requested.store(true);
    kick();
}

bool VcpuRunner::wait_paused(std::chrono::steady_clock::time_point deadline)
{
    std::unique_lock lock(m_pause_lock);
    return m_pause_changed.wait_until(lock, deadline, [&] { return m_paused || m_ended; });
}

void VcpuRunner::resume()
{
    std::lock_guard lock(m_pause_lock);
    m_pause_requested.store(false);
    m_pause_changed.notify_all();
}

bool VcpuRunner::park()
{
    m_vcpu.set_immediate_exit(true);
    auto exit = m_vcpu.run();
    m_vcpu.set_immediate_exit(false);
    if (!exit) {
        stop_with_kvm_error(exit.error().message);
        return false;
    }
    if (!std::holds_alternative<InterruptedExit>(*exit)) {
        // Completing the last exit produced a new one (a string instruction's next chunk):
        // handle it and try again.
        if (!handle_exit(*exit))
            m_shared.stop.request(StopReason::VmmError, "vCPU " + std::to_string(m_vcpu.index()) + " stopped while pausing");
        return false;
    }
    std::unique_lock lock(m_pause_lock);
    m_paused = true;
    m_pause_changed.notify_all();
    m_pause_changed.wait(lock, [&] { return !m_pause_requested.load() || m_shared.stop.requested(); });
    m_paused = false;
    return true;
}

void VcpuRunner::join()
{
    if (!m_running)
        return;
    ::pthread_join(m_thread, nullptr);
    m_running = false;
}

void VcpuRunner::request_activity()
{
    {
        std::lock_guard lock(m_activity_lock);
        m_activity.reset();
    }
    m_activity_requested.store(true);
    kick();
}

std::optional<VcpuActivity> VcpuRunner::wait_activity(std::chrono::steady_clock::time_point deadline)
{
    std::unique_lock lock(m_activity_lock);
    m_activity_ready.wait_until(lock, deadline, [&] { return m_activity.has_value(); });
    return m_activity;
}

void* VcpuRunner::thread_entry(void* self)
{
    auto* runner = static_cast<VcpuRunner*>(self);
    runner->loop();
    std::lock_guard lock(runner->m_pause_lock);
    runner->m_ended = true; // a pause waiter must not wait for a thread that is gone
    runner->m_pause_changed.notify_all();
    return nullptr;
}

void VcpuRunner::loop()
{
    std::string name = "vcpu" + std::to_string(m_vcpu.index());
    set_log_thread_name(name);
    ::pthread_setname_np(::pthread_self(), ("husk-" + name).c_str());

    // The filter goes on before the first guest instruction: from here on an escaped guest finds
    // a thread that can only run KVM_RUN and answer exits.
    if (m_shared.seccomp != SeccompMode::Off) {
        SetupPhase phase("vcpu seccomp");
        if (auto installed = install_seccomp(ThreadKind::Vcpu); !installed) {
            log_error(installed.error().message);
            m_shared.stop.request(StopReason::VmmError, installed.error().message);
            return;
        }
    }
    forbidden_syscall_test_hook(ThreadKind::Vcpu);

    int64_t unset = 0;
    m_shared.first_run_ns.compare_exchange_strong(unset, steady_now_ns());
    run_until_stopped();
    log_debug(name + " ended after " + std::to_string(m_runs) + " runs: " + std::to_string(m_io_exits) + " port I/O, "
        + std::to_string(m_mmio_exits) + " MMIO, " + std::to_string(m_interrupted_exits) + " interrupted, "
        + std::to_string(m_unmapped_accesses) + " unmapped accesses");
}

void VcpuRunner::run_until_stopped()
{
    for (;;) {
        // Order matters: a kicker sets its flag, then immediate_exit, then signals; we clear
        // immediate_exit (after an interrupted run), then read the flags, then run. Whatever the
        // interleaving, a flag set after we read it leaves immediate_exit set for the next run.
        if (m_shared.stop.requested())
            return;
        if (m_activity_requested.exchange(false))
            answer_activity_request();
        if (m_pause_requested.load()) {
            park();
            continue;
        }
        ++m_runs;
        auto exit = m_vcpu.run();
        if (!exit) {
            stop_with_kvm_error(exit.error().message);
            return;
        }
        if (!handle_exit(*exit))
            return;
    }
}

bool VcpuRunner::handle_exit(VcpuExit& exit)
{
    if (auto* io = std::get_if<IoExit>(&exit)) {
        ++m_io_exits;
        dispatch_io(*io);
        return true;
    }
    if (auto* mmio = std::get_if<MmioExit>(&exit)) {
        ++m_mmio_exits;
        dispatch_mmio(*mmio);
        return true;
    }
    if (std::holds_alternative<InterruptedExit>(exit)) {
        ++m_interrupted_exits;
        m_vcpu.set_immediate_exit(false);
        return true;
    }
    std::string vcpu = "vCPU " + std::to_string(m_vcpu.index());
    if (std::holds_alternative<ShutdownExit>(exit)) {
        std::string detail = "triple fault on " + vcpu;
        if (m_shared.debug == DebugMode::On)
            detail += "\n" + m_vcpu.register_dump();
        m_shared.stop.request(StopReason::GuestCrashed, std::move(detail));
        return false;
    }
    if (std::holds_alternative<HltExit>(exit)) {
        // Only without an in-kernel irqchip does HLT reach user space; nothing here could wake it.
        m_shared.stop.request(StopReason::GuestHalted, vcpu + " halted (HLT exit to user space)");
        return false;
    }
    if (auto* event = std::get_if<SystemEventExit>(&exit)) {
        if (event->type == KVM_SYSTEM_EVENT_RESET || event->type == KVM_SYSTEM_EVENT_SHUTDOWN) {
            m_shared.on_guest_reset(event->type == KVM_SYSTEM_EVENT_RESET ? "KVM reset event" : "KVM shutdown event");
            return false;
        }
        if (event->type == KVM_SYSTEM_EVENT_CRASH) {
            m_shared.stop.request(StopReason::GuestCrashed, "guest reported a crash (KVM system event) on " + vcpu);
            return false;
        }
    }
    // Internal error, failed entry, an unknown exit or system event: KVM cannot go on.
    stop_with_kvm_error(describe_exit(exit) + " on " + vcpu);
    return false;
}

void VcpuRunner::stop_with_kvm_error(std::string description)
{
    if (m_shared.debug == DebugMode::On)
        description += "\n" + m_vcpu.register_dump();
    log_error(description);
    m_shared.stop.request(StopReason::KvmError, std::move(description));
}

void VcpuRunner::dispatch_io(IoExit const& exit)
{
    // REP INS/OUTS arrive as `count` accesses of `size` bytes each, all at the same port.
    for (uint32_t i = 0; i < exit.count; ++i) {
        auto chunk = exit.data.subspan(static_cast<size_t>(i) * exit.size, exit.size);
        bool handled = exit.direction == AccessDirection::Write ? m_shared.pio_bus.write(exit.port, chunk)
                                                                : m_shared.pio_bus.read(exit.port, chunk);
        if (!handled)
            note_unmapped("port", exit.direction, exit.port, exit.size);
    }
}

void VcpuRunner::dispatch_mmio(MmioExit const& exit)
{
    bool handled = exit.direction == AccessDirection::Write ? m_shared.mmio_bus.write(exit.address, exit.data)
                                                            : m_shared.mmio_bus.read(exit.address, exit.data);
    if (!handled)
        note_unmapped("MMIO", exit.direction, exit.address, exit.data.size());
}

void VcpuRunner::note_unmapped(char const* space, AccessDirection direction, uint64_t address, size_t size)
{
    // Reads already returned all-ones (Bus::read fills them), writes were dropped.
    ++m_unmapped_accesses;
    bool power_of_two = (m_unmapped_accesses & (m_unmapped_accesses - 1)) == 0;
    if (m_unmapped_accesses > unmapped_accesses_logged_in_full && !power_of_two)
        return;
    char line[128];
    std::snprintf(line, sizeof line, "unmapped %s %s at %#" PRIx64 " (%zu bytes), %" PRIu64 " so far", space,
        direction == AccessDirection::Write ? "write" : "read", address, size, m_unmapped_accesses);
    log_debug(line);
}

void VcpuRunner::answer_activity_request()
{
    std::optional<VcpuActivity> activity;
    auto mp_state = m_vcpu.get_mp_state();
    auto regs = m_vcpu.get_regs();
    if (mp_state && regs)
        activity = VcpuActivity { mp_state->mp_state, (regs->rflags & rflags_interrupt_enable) != 0 };
    else
        log_debug("activity sample failed: " + (mp_state ? regs.error().message : mp_state.error().message));
    {
        std::lock_guard lock(m_activity_lock);
        // A failed read answers "unknown": the waiter then times out and counts it as running.
        if (activity)
            m_activity = activity;
    }
    m_activity_ready.notify_all();
}

} // namespace husk

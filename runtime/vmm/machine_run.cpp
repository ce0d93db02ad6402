// Machine::run: vCPU threads, the main thread's wait loop (stop requests, host signals,
// timeout, halt detection) and the stop report.
#include "runtime/base/log.hpp"
#include "runtime/base/mapped_code.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/jail/seccomp.hpp"
#include "runtime/kvm/vcpu_kick.hpp"
#include "runtime/vmm/halt_detector.hpp"
#include "runtime/vmm/machine.hpp"
#include "runtime/vmm/vcpu_runner.hpp"

#include <algorithm>
#include <csignal>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace husk {

namespace {
    using Clock = std::chrono::steady_clock;
    using namespace std::chrono_literals;

    // How often the main thread samples vCPU activity for halt detection, and how long it waits
    // for each vCPU thread to answer (a thread busy in a slow device counts as running).
    constexpr auto halt_check_interval = 500ms;
    constexpr auto activity_answer_timeout = 100ms;

    // SIGINT and SIGTERM become a readable fd instead of killing the process.
    class HostSignals {
    public:
        static Result<HostSignals> create()
        {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGINT);
            sigaddset(&set, SIGTERM);
            if (int error = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0)
                return fail_errno("pthread_sigmask", error);
            int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
            if (fd < 0)
                return fail_errno("signalfd");
            return HostSignals(Fd(fd));
        }
        int fd() const { return m_fd.get(); }
        // The number of the first pending signal, if any.
        std::optional<int> take()
        {
            signalfd_siginfo info {};
            auto got = ::read(m_fd.get(), &info, sizeof info);
            if (got != static_cast<ssize_t>(sizeof info))
                return std::nullopt;
            return static_cast<int>(info.ssi_signo);
        }

    private:
        explicit HostSignals(Fd fd)
            : m_fd(std::move(fd))
        {
        }
        Fd m_fd;
    };

    std::chrono::microseconds since(Clock::time_point from, Clock::time_point to)
    {
        return std::chrono::duration_cast<std::chrono::microseconds>(to - from);
    }

    int poll_timeout_ms(Clock::time_point until)
    {
        auto remaining = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
        return static_cast<int>(std::clamp<int64_t>(remaining, 0, INT32_MAX));
    }
} // namespace

StopReport Machine::run()
{
    if (m_ran) {
        StopReport report;
        report.reason = StopReason::VmmError;
        report.detail = "Machine::run called twice";
        return report;
    }
    m_ran = true;

    auto fail_report = [&](std::string detail) {
        m_stop.request(StopReason::VmmError, std::move(detail));
        return build_report(Clock::now());
    };
    std::optional<SetupPhase> phase;
    phase.emplace("signals");
    if (auto installed = install_vcpu_kick_handler(); !installed)
        return fail_report(installed.error().message);
    auto signals = HostSignals::create();
    if (!signals)
        return fail_report(signals.error().message);
    phase.emplace("event thread start");

    VcpuRunnerShared shared { m_pio_bus, m_mmio_bus, m_stop,
        [this](std::string_view mechanism) { on_guest_reset(mechanism); }, m_first_run_ns,
        m_config.debug ? DebugMode::On : DebugMode::Off, m_config.seccomp };
    if (auto started
        = m_virtio->start([this](std::string why) { m_stop.request(StopReason::VmmError, std::move(why)); });
        !started)
        return fail_report(started.error().message);
    std::vector<std::unique_ptr<VcpuRunner>> runners;
    phase.emplace("vcpu threads start");
    auto started_at = Clock::now();
    for (auto& vcpu : m_vcpus) {
        auto runner = std::make_unique<VcpuRunner>(vcpu, shared);
        if (auto started = runner->start(); !started) {
            m_stop.request(StopReason::VmmError, started.error().message);
            break;
        }
        runners.push_back(std::move(runner));
    }

    // The main thread filters itself only now: a filter is inherited by threads created later, and
    // the main list has no KVM_RUN (nor clone). Each vCPU thread installs its own list.
    phase.emplace("main seccomp");
    if (m_config.seccomp == SeccompMode::AllThreads) {
        if (auto installed = install_seccomp(ThreadKind::Main); !installed) {
            log_error(installed.error().message);
            m_stop.request(StopReason::VmmError, installed.error().message);
        }
    }
    phase.reset();
    forbidden_syscall_test_hook(ThreadKind::Main);

    std::optional<Clock::time_point> deadline;
    if (m_config.timeout)
        deadline = started_at + *m_config.timeout;
    auto next_halt_check = started_at + halt_check_interval;
    HaltDetector halt_detector;
    bool released_setup_code = false;
    bool released_after_boot = false;
    std::vector<std::optional<VcpuActivity>> sample(runners.size());

    while (!m_stop.requested()) {
        auto now = Clock::now();
        if (deadline && now >= *deadline) {
            m_stop.request(StopReason::Timeout,
                "the guest was still running after the timeout of " + std::to_string(m_config.timeout->count())
                    + " ms");
            break;
        }
        if (now >= next_halt_check && m_paused) {
            next_halt_check = now + halt_check_interval; // parked vCPUs answer no samples
            continue;
        }
        if (now >= next_halt_check) {
            for (auto& runner : runners)
                runner->request_activity();
            auto answer_deadline = Clock::now() + activity_answer_timeout;
            for (size_t i = 0; i < runners.size(); ++i)
                sample[i] = runners[i]->wait_activity(answer_deadline);
            if (halt_detector.observe(sample))
                m_stop.request(StopReason::GuestHalted, "every vCPU is halted with interrupts disabled");
            // Setup is over: what it ran (options, images, seccomp, jail) the VM will not run again,
            // and fault-around mapped much more beside it. The running VM faults back in what it
            // uses (docs/benchmarks.md: 1.4 of husk-vmm's 2.2 MB of text and 1 of libc's 1.4 MB
            // were resident). Not at the end of setup: there the madvise ran beside the new vCPU
            // threads, which faulted their code back in and took its TLB shootdowns on their way
            // to the first KVM_RUN (0.3 ms with an idle core). Once husk-init runs, the devices'
            // bring-up code is done with too: release again, so what stays mapped is what a
            // running VM uses.
            bool booted = m_guest_booted.load();
            if (!released_setup_code || (booted && !released_after_boot)) {
                released_setup_code = true;
                released_after_boot = booted;
                auto released = release_mapped_code();
                log_debug("released the mappings of " + std::to_string(released.bytes >> 10)
                    + " KiB of code and constants in " + std::to_string(released.ranges) + " ranges ("
                    + std::to_string(released.refused) + " refused)");
            }
            next_halt_check = Clock::now() + halt_check_interval;
            continue;
        }
        auto wake_at = deadline ? std::min(*deadline, next_halt_check) : next_halt_check;
        pollfd fds[] = { { m_stop.event_fd(), POLLIN, 0 }, { signals->fd(), POLLIN, 0 },
            { m_control ? m_control->listener_fd() : -1, POLLIN, 0 },
            { m_control ? m_control->client_fd() : -1, POLLIN, 0 } };
        int ready = ::poll(fds, std::size(fds), poll_timeout_ms(wake_at));
        if (ready < 0 && errno != EINTR) {
            m_stop.request(StopReason::VmmError, Error::from_errno("poll").message);
            break;
        }
        if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
            if (auto signal = signals->take())
                m_stop.request(StopReason::HostSignal, std::string("husk-vmm received SIG") + sigabbrev_np(*signal));
        }
        // The connected client first: when it has hung up and the next one is already waiting
        // (libhusk's SNAPSHOT, then RESUME), the hang-up must free the slot before the accept,
        // or the next client is refused as a second one.
        if (ready > 0 && m_control && (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            serve_control(runners);
        if (ready > 0 && m_control && (fds[2].revents & POLLIN) != 0)
            m_control->accept_client();
    }
    resume(runners); // parked threads must see the stop

    // Teardown is profiled like setup: it is part of what each VM costs its caller.
    phase.emplace("teardown: vcpu threads");
    for (auto& runner : runners)
        runner->kick();
    for (auto& runner : runners)
        runner->join();
    // A guest that powered off may have queued its last bytes (the agent's Ack to Shutdown among
    // them) without the event thread having served them yet: deliver them before closing.
    phase.emplace("teardown: devices");
    bool powered_off = m_stop.decision() && m_stop.decision()->reason == StopReason::GuestShutdown;
    m_virtio->stop(powered_off ? VirtioDevices::StopMode::DeliverGuestOutput : VirtioDevices::StopMode::Immediate);
    phase.reset();
    auto stopped_at = Clock::now();
    // Every vCPU is out of KVM_RUN now, so their state can be read from this thread.
    if (m_config.debug && m_stop.decision()->reason != StopReason::GuestShutdown) {
        for (auto const& vcpu : m_vcpus)
            log_debug(vcpu.register_dump());
    }
    return build_report(stopped_at);
}

StopReport Machine::build_report(Clock::time_point stopped_at) const
{
    StopReport report;
    auto decision = m_stop.decision();
    report.reason = decision ? decision->reason : StopReason::VmmError;
    report.detail = decision ? decision->detail : "the VM stopped without a recorded reason";
    if (m_status)
        report.guest = m_status->status();

    int64_t first_run_ns = m_first_run_ns.load();
    std::optional<Clock::time_point> first_run;
    if (first_run_ns != 0)
        first_run
            = Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(first_run_ns)));
    if (first_run) {
        report.timings.setup = since(m_config.process_start, *first_run);
        if (report.guest.boot_marker_time)
            report.timings.boot_to_init = since(*first_run, *report.guest.boot_marker_time);
    }
    report.timings.total = since(m_config.process_start, stopped_at);
    report.clock = { m_config.process_start, first_run, stopped_at };

    std::string summary = std::string("VM stopped: ") + stop_reason_name(report.reason) + ": " + report.detail;
    if (report.reason == StopReason::GuestShutdown)
        log_info(summary);
    else
        log_warn(summary);
    return report;
}

} // namespace husk

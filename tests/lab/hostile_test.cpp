// Lab: hostile guests. tests/guests/ builds one freestanding guest holding every malicious-driver
// case; husk-vmm boots it once per case (hostile.case=NAME) with an rng, a vsock device, two
// disks (read-write, read-only), a virtio-9p share and, for the net cases, a virtio-net device on
// a tap (in a network namespace of the suite's own). The case list comes from the guest itself
// (hostile.case=list), so a new case file needs no change here.
//
// A case passes when husk-vmm stops normally (guest-shutdown, never a signal, timeout or
// sanitizer report), the guest's own verdict is 0 (the attacked device served a well-formed
// request after the attack unless it asked for a reset, and again after a reset), its peak RSS
// stays within a bound of the list run's, its log and console output stay bounded, the read-only
// image is unchanged and, for vsock cases, the host listener got the probe's "ping" and
// husk-vmm's socket still accepted a connection; for p9 cases, nothing beside the shared
// directory changed. Net cases run with frames streaming into the guest from the tap's host end.
//
// Environment: HUSK_HOSTILE_GUEST (the guest ELF), HUSK_HOSTILE_VMM (another husk-vmm, e.g. an
// ASan+UBSan build), HUSK_HOSTILE_NO_SECCOMP=1 (pass --no-seccomp, needed by sanitizer builds),
// HUSK_HOSTILE_SUBSET=ci|sanitizer (the subsets CI runs, see in_subset).
#include "tests/lab/case_watchdog.hpp"
#include "tests/lab/hostile_host_side.hpp"
#include "tests/lab/hostile_net_side.hpp"
#include "tests/lab/vmm_process.hpp"

#include <algorithm>
#include <cstdlib>
#include <gtest/gtest.h>
#include <optional>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

using namespace husk::lab;
using namespace std::chrono_literals;

namespace {

// A case may keep husk-vmm busy for long under the lab's TCG (a million kicks); the VMM's own
// timeout fires first, so a hang shows up as stop_reason "timeout", not as a killed process.
constexpr auto case_vmm_timeout = 240s;
constexpr auto case_wall_limit = 300s;
// Past this a case has hung outside husk-vmm too (run_vmm returns within case_wall_limit plus
// kill_grace whatever the VMM does): the watchdog ends the suite naming it.
constexpr auto case_watchdog_limit = case_wall_limit + kill_grace + 60s;
// The list run prints 517 names through the serial port, a byte per exit: under the lab's TCG on
// a loaded machine that took more than case_vmm_timeout, and a list cut short ran a part of the
// suite without a word. It gets more time, and must end with the guest's verdict 0.
constexpr auto list_vmm_timeout = 900s;
constexpr auto list_wall_limit = 960s;
// Peak RSS a case may add over the list run's (same machine, no attack): generous for sanitizer
// builds, far below what an unbounded queue or log would reach.
constexpr long rss_slack_kib = 64 * 1024;
// husk-vmm's own log for one case (a few lines when all is well) and the guest console (the
// serial device's cap, runtime/devices/serial.hpp, plus room for its notice).
constexpr size_t max_log_bytes = 64 * 1024;
constexpr size_t max_console_bytes = (64u << 20) + 4096;

std::string env_or(char const* name, std::string fallback)
{
    char const* value = std::getenv(name);
    return value && *value ? value : fallback;
}

std::string guest_path() { return env_or("HUSK_HOSTILE_GUEST", HUSK_HOSTILE_GUEST_PATH); }
std::string vmm_path() { return env_or("HUSK_HOSTILE_VMM", HUSK_VMM_PATH); }

// Whether a case's VM gets the net device. A husk-vmm that exits keeps its tap until the kernel
// has torn its io_uring down (some 0.7 s under the lab's TCG) and the next one on the tap waits
// for that (TapDevice::open): only the net cases (and the list run) pay it. The guest finds each
// kind by device id, so the other cases do not miss it.
bool needs_net(std::string const& name) { return name == "list" || name.starts_with("net."); }

VmmRun boot_case(std::string const& name, HostileHostSide const& host,
    std::chrono::seconds vmm_timeout = case_vmm_timeout, std::chrono::seconds wall_limit = case_wall_limit)
{
    // Two vCPUs: the race cases start the second one; the others leave it waiting for SIPI.
    std::vector<std::string> arguments { "--kernel", guest_path(), "--memory", "64M", "--vcpus", "2", "--serial",
        "stdout", "--cmdline", "hostile.case=" + name, "--vsock", host.vsock_path(), "--disk", host.rw_disk(), "--disk",
        host.ro_disk() + ",ro", "--share", host.share_directory() + ":" + hostile_share_tag, "--timeout",
        std::to_string(vmm_timeout.count()) + "s" };
    if (needs_net(name))
        arguments.insert(arguments.end(), { "--net-tap", hostile_net_tap_option() });
    if (env_or("HUSK_HOSTILE_NO_SECCOMP", "") == "1")
        arguments.push_back("--no-seccomp");
    return run_vmm(arguments, wall_limit, false, nullptr, vmm_path());
}

std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + " signal " + std::to_string(run.term_signal) + " rss "
        + std::to_string(run.max_rss_kib) + " KiB\nreport: " + run.report + "\nguest console:\n" + run.out
        + "\nhusk-vmm log (tail):\n" + run.err.substr(run.err.size() > 4000 ? run.err.size() - 4000 : 0);
}

bool has_sanitizer_report(std::string const& log)
{
    for (char const* marker :
        { "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:", "ThreadSanitizer" }) {
        if (log.find(marker) != std::string::npos)
            return true;
    }
    return false;
}

long g_baseline_rss_kib = 0;

// What the guest measured (kicks sent, bytes written), for the log of every run.
void print_guest_notes(std::string const& console)
{
    std::istringstream lines(console);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with("hostile: ") && !line.starts_with("hostile: case ")
            && !line.starts_with("hostile: verdict "))
            std::printf("  guest: %s\n", line.c_str() + 9);
    }
}

class HostileCase : public ::testing::Test {
public:
    explicit HostileCase(std::string name)
        : m_name(std::move(name))
    {
    }

    void TestBody() override
    {
        HostileHostSide host;
        ASSERT_FALSE(host.directory().empty());
        std::optional<HostileNetTraffic> traffic;
        if (m_name.starts_with("net."))
            traffic.emplace();
        auto tap_before = traffic ? hostile_tap_counters() : std::string();
        auto run = boot_case(m_name, host);
        unsigned streamed = traffic ? traffic->frames_sent() : 0;
        traffic.reset();
        std::string net_counters;
        if (m_name.starts_with("net."))
            net_counters = "\nframes streamed to the guest " + std::to_string(streamed)
                + "; before the case: " + tap_before + "; after it: " + hostile_tap_counters();
        SCOPED_TRACE(describe(run) + net_counters);
        print_guest_notes(run.out);
        ASSERT_FALSE(run.unkillable) << "husk-vmm hung past " << case_wall_limit.count()
                                     << " s and outlived SIGKILL by " << kill_grace.count() << " s:\n"
                                     << run.stuck;
        ASSERT_FALSE(run.killed_by_test) << "husk-vmm hung past " << case_wall_limit.count() << " s";
        ASSERT_EQ(run.term_signal, 0) << "husk-vmm died of a signal";
        EXPECT_FALSE(has_sanitizer_report(run.err)) << "sanitizer report";
        EXPECT_EQ(json_field(run.report, "stop_reason").value_or("none"), "guest-shutdown");
        EXPECT_EQ(run.exit_status, 0);
        EXPECT_EQ(json_number(run.report, "exit_code").value_or(-1), 0) << "the guest's verdict";
        EXPECT_LE(run.max_rss_kib, g_baseline_rss_kib + rss_slack_kib) << "baseline " << g_baseline_rss_kib << " KiB";
        EXPECT_TRUE(host.read_only_disk_intact()) << "the read-only image changed";
        // Whatever the guest repeats, husk-vmm's log and console stay small (rate-limited log
        // sites, the serial cap plus its notice).
        EXPECT_LE(run.err.size(), max_log_bytes) << "husk-vmm's log grew with the guest's misbehaviour";
        EXPECT_LE(run.out.size(), max_console_bytes) << "the console passed its cap";
        if (m_name.starts_with("vsock.")) {
            EXPECT_GE(host.pings(), 1u) << "the host listener never got the probe's ping";
            EXPECT_EQ(host.uds_connects_accepted(), host.uds_connects_tried()) << "husk-vmm's socket refused";
        }
        if (m_name.starts_with("p9.")) {
            EXPECT_TRUE(host.outside_of_share_intact()) << "something beside the 9P share changed";
        }
    }

private:
    std::string m_name;
};

// HUSK_HOSTILE_SUBSET selects what CI's time allows; unset: every case.
// - "ci" (lab_hostile): every device's own cases and the races against every device, and the
//   generic cases against vsock (with its notify storm). Left out: the generic cases against the
//   other devices (the same transport and queue code), the other notify storms (20 s of kicks
//   each through the same QueueNotify path) and rng's console flood (under TCG only some 50 KiB
//   reach husk-vmm; the serial device's cap is unit-tested).
// - "sanitizer" (lab_hostile_asan): every device's own cases but rng's console flood, and the
//   races against every device. The generic cases test the shared transport and queue code,
//   which virtio_queue_fuzz and virtio_mmio_fuzz run under ASan+UBSan in CI; a sanitized husk-vmm
//   costs some 1.7 s per case in the lab, and the generic ones against p9 took 130 s of it.
bool in_subset(std::string const& name, bool generic)
{
    auto subset = env_or("HUSK_HOSTILE_SUBSET", "");
    if (subset.empty())
        return true;
    bool storm = name.find(".notify_storm_") != std::string::npos;
    bool race = name.find(".race_") != std::string::npos;
    if (name == "rng.console_flood")
        return false;
    if (subset == "ci")
        return storm ? name.starts_with("vsock.") : !generic || race || name.starts_with("vsock.");
    if (storm)
        return false; // a throughput case, covered with seccomp on
    return !generic || race;
}

std::vector<std::string> list_cases(long& rss_kib, std::string& failure)
{
    HostileHostSide host;
    auto run = boot_case("list", host, list_vmm_timeout, list_wall_limit);
    rss_kib = run.max_rss_kib;
    std::vector<std::string> names;
    std::istringstream lines(run.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.starts_with("hostile-case: "))
            continue;
        // "<kind>.<case>", then " generic" for the cases every device kind gets.
        std::istringstream fields(line.substr(14));
        std::string name, marker;
        fields >> name >> marker;
        if (in_subset(name, marker == "generic"))
            names.push_back(name);
    }
    // The verdict comes after the last name: without it the list may be cut short.
    bool complete = json_field(run.report, "stop_reason").value_or("none") == "guest-shutdown"
        && json_number(run.report, "exit_code").value_or(-1) == 0;
    if (names.empty() || run.exit_status != 0 || !complete)
        failure = "the guest's list of cases did not come to its end (" + std::to_string(names.size())
            + " names so far): " + describe(run);
    auto subset = env_or("HUSK_HOSTILE_SUBSET", "");
    if (!subset.empty() && subset != "ci" && subset != "sanitizer")
        failure = "HUSK_HOSTILE_SUBSET=" + subset + " names no subset (ci, sanitizer or unset)";
    return names;
}

std::string test_name(std::string name)
{
    std::replace_if(
        name.begin(), name.end(), [](char c) { return c == '.' || c == '-'; }, '_');
    return name;
}

} // namespace

int main(int argc, char** argv)
{
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::UnitTest::GetInstance()->listeners().Append(new CaseWatchdog(case_watchdog_limit));
    // The flood cases make the listener hold a thousand connections at once.
    rlimit files {};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 8192) {
        files.rlim_cur = std::min<rlim_t>(8192, files.rlim_max);
        setrlimit(RLIMIT_NOFILE, &files);
    }
    // The tap lives in a namespace of the suite's own; without it every case fails to boot.
    std::string failure = set_up_hostile_network();
    if (access(vmm_path().c_str(), X_OK) != 0)
        failure = "no husk-vmm at " + vmm_path()
            + " (lab_hostile_asan: tests/run.sh builds it in <build>-asan, docs/security.md)";
    std::vector<std::string> names;
    if (failure.empty())
        names = list_cases(g_baseline_rss_kib, failure);
    if (!failure.empty()) {
        ::testing::RegisterTest(
            "HostileGuest", "ListCases", nullptr, nullptr, __FILE__, __LINE__, [failure]() -> ::testing::Test* {
                struct Failing : ::testing::Test {
                    std::string why;
                    void TestBody() override { FAIL() << why; }
                };
                auto* test = new Failing;
                test->why = failure;
                return test;
            });
    }
    for (auto const& name : names) {
        ::testing::RegisterTest("HostileGuest", test_name(name).c_str(), nullptr, nullptr, __FILE__, __LINE__,
            [name]() -> ::testing::Test* { return new HostileCase(name); });
    }
    std::printf("hostile: %zu cases from %s against %s (list run RSS %ld KiB)\n", names.size(), guest_path().c_str(),
        vmm_path().c_str(), g_baseline_rss_kib);
    return RUN_ALL_TESTS();
}

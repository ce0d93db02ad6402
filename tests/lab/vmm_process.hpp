// Runs husk-vmm as a child process for lab tests: captures stdout and stderr, enforces a
// wall-clock limit, and reads the one-line JSON report the VMM writes with --report.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace husk::lab {

struct VmmRun {
    int exit_status { -1 }; // husk-vmm's own exit status; -1 if it was killed
    int term_signal { 0 }; // the signal that killed it, 0 if it exited
    bool killed_by_test { false };
    // husk-vmm was still there a while after SIGKILL (stuck in the kernel): not reaped, and
    // `stuck` says where its threads wait (/proc/<pid>/task/*: state, wchan, kernel stack).
    bool unkillable { false };
    std::string stuck;
    std::string out;
    std::string err;
    std::string report; // the JSON line, empty if none was written
    std::chrono::milliseconds wall {};
    long max_rss_kib { 0 }; // the VMM's peak resident set (getrusage ru_maxrss)
};

// How long a killed husk-vmm may take to disappear before run_vmm gives up on it.
inline constexpr std::chrono::seconds kill_grace { 30 };

std::string assets_dir();
std::string guest_kernel();
std::string guest_initramfs();

// Looks at a running VMM: `inspect` is called once with its pid, as soon as its stderr contains
// `marker` (while the VMM still runs, as long as the guest job outlasts the inspection).
struct RunningProbe {
    std::string marker;
    std::function<void(int pid)> inspect;
};

// Runs husk-vmm with the given arguments (kernel and initrd added unless `with_defaults` is
// false) and waits at most `limit`, then kills it; whatever happens, returns within `limit` plus
// kill_grace (an unkillable VMM is left behind, marked). `vmm` replaces the husk-vmm of this
// build (a sanitizer build).
VmmRun run_vmm(std::vector<std::string> const& arguments, std::chrono::seconds limit = std::chrono::seconds(120),
    bool with_defaults = true, RunningProbe const* probe = nullptr, std::optional<std::string> vmm = std::nullopt);

// Each thread of process `pid`: name, state, wait channel and kernel stack (root only).
std::string describe_process_threads(int pid);

// Extracts a top-level or nested JSON value by key from the report ("stop_reason", "exit_code").
// Good enough for the flat reports husk-vmm writes; returns nullopt when absent.
std::optional<std::string> json_field(std::string const& json, std::string const& key);
std::optional<long long> json_number(std::string const& json, std::string const& key);

} // namespace husk::lab

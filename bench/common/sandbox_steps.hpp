// The timed steps the sandbox benchmarks share: a cold sandbox and a restored one through libhusk,
// each running `true` to its result, and the peer, QEMU microvm from exec to husk-init's boot
// marker (same kernel and initramfs; it does less: no agent round trip, no teardown).
#pragma once

#include "bench/common/peer_vm.hpp"
#include "bench/common/step_breakdown.hpp"
#include "husk/husk.hpp"
#include "runtime/base/result.hpp"

#include <filesystem>
#include <vector>

namespace husk::bench {

// What a cold spawn saw besides its time.
struct SpawnRecord {
    std::vector<double> teardown_ms; // the shutdown after each run
    bool jailed { false }; // the last sandbox ran jailed
    // With libhusk's step trace on (detail::enable_step_trace), each run's steps.
    StepBreakdown steps;
};
// Sandbox::create + run({"true"}), then the untimed shutdown, noted in `record` if given.
Result<double> time_create_and_run_true(SandboxOptions const& options, SpawnRecord* record = nullptr);
// Sandbox::restore from `snapshot` (with the Refresh that makes the clone unique) + run({"true"}).
Result<double> time_restore_and_run_true(
    std::filesystem::path const& snapshot, SandboxOptions const& options, SpawnRecord* record = nullptr);
// QEMU microvm with the images, from exec until it exits at husk-init's boot marker.
Result<double> time_qemu_boot_to_init(VmImages const& images);

} // namespace husk::bench

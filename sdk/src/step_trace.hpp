// StepTrace: timestamps of a sandbox's life-cycle steps (spawn, each connect attempt, Hello,
// Refresh, Exec, Exited, Shutdown, the VMM's exit, cleanup), for bench/spawn and bench/snapshot,
// which print where the time goes (docs/benchmarks.md). Off by default: a step is then one relaxed
// atomic load. Process-wide, so a benchmark should drive one sandbox at a time while tracing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace husk::detail {

struct TracedStep {
    std::string name;
    std::chrono::steady_clock::time_point at; // CLOCK_MONOTONIC, as husk-vmm's report times
};

void enable_step_trace(bool enabled);
bool step_trace_enabled();
// Notes `name` now (or at `at`: a time read elsewhere, such as husk-vmm's report).
void trace_step(std::string_view name);
void trace_step_at(std::string_view name, std::chrono::steady_clock::time_point at);
// The steps noted since the last call, in the order noted.
std::vector<TracedStep> take_step_trace();

} // namespace husk::detail

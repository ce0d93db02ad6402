// Rounds of timed steps, the loop of the sandbox benchmarks (bench/spawn, bench/snapshot): every
// step runs once per round, in the order given, so load that comes and goes during a run (the lab
// shares its host with builds and other labs) hits each step alike and the ratios between their
// medians stay fair.
#pragma once

#include "runtime/base/result.hpp"

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace husk::bench {

using Clock = std::chrono::steady_clock;

double millis_since(Clock::time_point start);

struct TimedStep {
    std::string name; // names the step in the error of a failed round
    // Runs the step once: its milliseconds, or why it failed.
    std::function<Result<double>()> run;
};

// The samples of each step, in the order of `steps`, `rounds` each; the first failure ends the
// loop and is returned with the step's name and round.
Result<std::vector<std::vector<double>>> run_rounds(int rounds, std::span<TimedStep const> steps);

} // namespace husk::bench

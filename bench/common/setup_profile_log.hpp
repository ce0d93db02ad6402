// Reading the setup profile husk-vmm --profile-setup logs (runtime/base/setup_profile.hpp) back
// in a benchmark: exec -> first KVM_RUN from the CLOCK_MONOTONIC time noted before the spawn, and
// the phases.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace husk::bench {

struct SetupTimes {
    double exec_to_main_ms { 0 };
    double exec_to_first_run_ms { 0 };
    std::vector<std::pair<std::string, std::pair<double, double>>> phases; // name -> (wall, CPU) ms
};

// CLOCK_MONOTONIC now, the clock the profile's origin is on; note it right before the spawn.
int64_t monotonic_ns();

// nullopt when the log has no profile line or the VM never ran.
std::optional<SetupTimes> read_setup_profile(std::string const& log_path, int64_t spawned_ns);

} // namespace husk::bench

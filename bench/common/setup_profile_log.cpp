// The "setup profile: {json}" log line of husk-vmm --profile-setup, parsed.
#include "bench/common/setup_profile_log.hpp"

#include "runtime/base/fd.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace husk::bench {

int64_t monotonic_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::optional<SetupTimes> read_setup_profile(std::string const& log_path, int64_t spawned_ns)
{
    auto log = husk::read_file(log_path, 1 << 20);
    if (!log)
        return std::nullopt;
    constexpr std::string_view marker = "setup profile: ";
    auto at = log->find(marker);
    if (at == std::string::npos)
        return std::nullopt;
    auto end = log->find('\n', at);
    auto json = nlohmann::json::parse(log->substr(at + marker.size(), end - at - marker.size()), nullptr, false);
    if (json.is_discarded() || !json["first_run_us"].is_number() || !json["origin_monotonic_ns"].is_number())
        return std::nullopt;
    SetupTimes times;
    times.exec_to_main_ms = static_cast<double>(json["origin_monotonic_ns"].get<int64_t>() - spawned_ns) / 1e6;
    times.exec_to_first_run_ms = times.exec_to_main_ms + json["first_run_us"].get<double>() / 1e3;
    for (auto const& phase : json["phases"])
        times.phases.push_back({ phase["phase"].get<std::string>(),
            { phase["wall_us"].get<double>() / 1e3, phase["cpu_us"].get<double>() / 1e3 } });
    return times;
}

} // namespace husk::bench

// SetupProfile storage and its JSON line.
#include "runtime/base/setup_profile.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

namespace husk {

SetupProfile& SetupProfile::process()
{
    static SetupProfile profile;
    return profile;
}

int64_t SetupProfile::thread_cpu_ns()
{
    timespec now {};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return int64_t { now.tv_sec } * 1'000'000'000 + now.tv_nsec;
}

void SetupProfile::record(std::string_view phase, Clock::time_point start, Clock::time_point end, int64_t cpu_ns)
{
    size_t index = m_next.fetch_add(1);
    if (index >= capacity)
        return;
    auto& entry = m_entries[index];
    size_t length = std::min(phase.size(), entry.name.size() - 1);
    std::copy_n(phase.data(), length, entry.name.data());
    entry.name[length] = '\0';
    entry.start_ns = to_ns(start);
    entry.end_ns = to_ns(end);
    entry.cpu_ns = cpu_ns;
    entry.complete.store(true, std::memory_order_release);
}

std::string SetupProfile::to_json(std::optional<Clock::time_point> first_run) const
{
    int64_t origin = m_origin_ns.load();
    auto micros = [&](int64_t ns) { return ns / 1000; };
    nlohmann::ordered_json json;
    json["origin_monotonic_ns"] = origin;
    json["first_run_us"] = first_run ? nlohmann::ordered_json(micros(to_ns(*first_run) - origin)) : nullptr;
    json["phases"] = nlohmann::ordered_json::array();
    size_t recorded = std::min(m_next.load(), capacity);
    for (size_t i = 0; i < recorded; ++i) {
        auto const& entry = m_entries[i];
        if (!entry.complete.load(std::memory_order_acquire))
            continue;
        nlohmann::ordered_json phase;
        phase["phase"] = std::string(entry.name.data());
        phase["start_us"] = micros(entry.start_ns - origin);
        phase["wall_us"] = micros(entry.end_ns - entry.start_ns);
        phase["cpu_us"] = micros(entry.cpu_ns);
        json["phases"].push_back(std::move(phase));
    }
    json["dropped"] = m_next.load() > capacity ? m_next.load() - capacity : 0;
    return json.dump();
}

} // namespace husk

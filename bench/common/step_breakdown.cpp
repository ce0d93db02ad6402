// StepBreakdown: per-step medians of the traced runs.
#include "bench/common/step_breakdown.hpp"

#include "bench/common/peer_vm.hpp"

#include <algorithm>
#include <cstdio>

namespace husk::bench {

void StepBreakdown::add_run(std::vector<detail::TracedStep> steps)
{
    if (steps.empty())
        return;
    std::stable_sort(steps.begin(), steps.end(), [](auto const& a, auto const& b) { return a.at < b.at; });
    auto start = steps.front().at;
    for (auto const& step : steps) {
        if (step.name == "start") {
            start = step.at;
            break;
        }
    }
    struct Seen {
        double first;
        double last;
        int count;
    };
    std::map<std::string, Seen> seen;
    for (auto const& step : steps) {
        double millis = std::chrono::duration<double, std::milli>(step.at - start).count();
        auto [entry, inserted] = seen.try_emplace(step.name, Seen { millis, millis, 0 });
        entry->second.last = millis;
        entry->second.count++;
    }
    for (auto const& [name, times] : seen) {
        auto& samples = m_steps[name];
        samples.first_ms.push_back(times.first);
        samples.last_ms.push_back(times.last);
        samples.count.push_back(times.count);
    }
    m_runs++;
}

void StepBreakdown::print(std::string const& title) const
{
    struct Row {
        std::string name;
        double first;
        double last;
        double count;
        size_t runs;
    };
    std::vector<Row> rows;
    for (auto const& [name, samples] : m_steps)
        rows.push_back({ name, summarize(samples.first_ms).median, summarize(samples.last_ms).median,
            summarize(samples.count).median, samples.first_ms.size() });
    std::sort(rows.begin(), rows.end(), [](auto const& a, auto const& b) { return a.first < b.first; });
    std::printf("%s: steps, median ms since libhusk's start over %d runs (and since the step before)\n",
        title.c_str(), m_runs);
    double previous = 0;
    for (auto const& row : rows) {
        std::printf("  %-34s %9.1f ms  (+%8.1f)", row.name.c_str(), row.first, row.first - previous);
        if (row.count > 1)
            std::printf("  last %9.1f ms, %.0f times", row.last, row.count);
        if (static_cast<int>(row.runs) != m_runs)
            std::printf("  [in %zu runs]", row.runs);
        std::printf("\n");
        previous = row.first;
    }
}

} // namespace husk::bench

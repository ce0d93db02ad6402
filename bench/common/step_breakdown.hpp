// StepBreakdown: where a sandbox benchmark's time goes, from libhusk's step trace
// (sdk/src/step_trace.hpp) of each run: per step, the median time since the run's start, and for
// a step seen more than once per run (a refused connect) also its last time and how often.
#pragma once

#include "sdk/src/step_trace.hpp"

#include <map>
#include <string>
#include <vector>

namespace husk::bench {

class StepBreakdown {
public:
    // One run's steps; the first is the run's start (libhusk's "start").
    void add_run(std::vector<detail::TracedStep> steps);
    // The table, steps in the order of their median time, on stdout.
    void print(std::string const& title) const;
    bool empty() const { return m_runs == 0; }

private:
    struct Samples {
        std::vector<double> first_ms;
        std::vector<double> last_ms;
        std::vector<double> count;
    };
    std::map<std::string, Samples> m_steps;
    int m_runs { 0 };
};

} // namespace husk::bench

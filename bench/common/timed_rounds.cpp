// The interleaved timing loop of the sandbox benchmarks.
#include "bench/common/timed_rounds.hpp"

namespace husk::bench {

double millis_since(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Result<std::vector<std::vector<double>>> run_rounds(int rounds, std::span<TimedStep const> steps)
{
    std::vector<std::vector<double>> samples(steps.size());
    for (int round = 0; round < rounds; ++round) {
        for (size_t index = 0; index < steps.size(); ++index) {
            auto millis = steps[index].run();
            if (!millis)
                return fail(steps[index].name + " (round " + std::to_string(round + 1) + "): " + millis.error().message);
            samples[index].push_back(*millis);
        }
    }
    return samples;
}

} // namespace husk::bench

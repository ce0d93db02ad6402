// StepTrace: a mutex-guarded list behind an atomic switch.
#include "sdk/src/step_trace.hpp"

#include <atomic>
#include <mutex>

namespace husk::detail {

namespace {
    std::atomic<bool> g_enabled { false };
    std::mutex g_lock;
    std::vector<TracedStep> g_steps;
} // namespace

void enable_step_trace(bool enabled) { g_enabled.store(enabled, std::memory_order_relaxed); }

bool step_trace_enabled() { return g_enabled.load(std::memory_order_relaxed); }

void trace_step(std::string_view name)
{
    if (step_trace_enabled())
        trace_step_at(name, std::chrono::steady_clock::now());
}

void trace_step_at(std::string_view name, std::chrono::steady_clock::time_point at)
{
    if (!step_trace_enabled())
        return;
    std::lock_guard lock(g_lock);
    g_steps.push_back({ std::string(name), at });
}

std::vector<TracedStep> take_step_trace()
{
    std::lock_guard lock(g_lock);
    std::vector<TracedStep> steps;
    steps.swap(g_steps);
    return steps;
}

} // namespace husk::detail

// Pool: filler threads restore from the snapshot until `size` sandboxes are ready; take() hands
// the oldest one out and wakes a filler for its replacement.
#include "husk/pool.hpp"

#include "runtime/base/result.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace husk {

namespace {
    constexpr size_t max_pool_size = 256;
    // After a failed restore: the next try waits this long (a broken snapshot must not spin).
    constexpr auto retry_pause = std::chrono::seconds(1);
} // namespace

struct Pool::State {
    PoolOptions options;
    mutable std::mutex lock;
    std::condition_variable changed;
    std::deque<Sandbox> ready;
    size_t restoring { 0 };
    bool stopping { false };
    std::optional<Error> last_error;
    std::vector<std::thread> fillers;

    void fill()
    {
        std::unique_lock guard(lock);
        for (;;) {
            changed.wait(guard, [&] { return stopping || ready.size() + restoring < options.size; });
            if (stopping)
                return;
            ++restoring;
            guard.unlock();
            auto sandbox = Sandbox::restore(options.snapshot_directory, options.sandbox);
            guard.lock();
            --restoring;
            if (sandbox) {
                ready.push_back(std::move(*sandbox));
                last_error.reset();
            } else {
                last_error = sandbox.error();
                changed.notify_all();
                changed.wait_for(guard, retry_pause, [&] { return stopping; });
            }
            changed.notify_all();
        }
    }

    void stop()
    {
        {
            std::lock_guard guard(lock);
            stopping = true;
        }
        changed.notify_all();
        for (auto& filler : fillers)
            filler.join();
        fillers.clear();
        ready.clear(); // each Sandbox shuts its VM down
    }
};

Pool::Pool(std::shared_ptr<State> state)
    : m_state(std::move(state))
{
}
Pool::Pool(Pool&&) noexcept = default;
Pool& Pool::operator=(Pool&& other) noexcept
{
    if (this != &other) {
        if (m_state)
            m_state->stop();
        m_state = std::move(other.m_state);
    }
    return *this;
}

Pool::~Pool()
{
    if (m_state)
        m_state->stop();
}

Result<Pool> Pool::create(PoolOptions options)
{
    if (options.size == 0 || options.size > max_pool_size)
        return fail(ErrorKind::BadConfig, "pool size must be 1.." + std::to_string(max_pool_size));
    if (options.parallel_restores == 0 || options.parallel_restores > options.size)
        return fail(ErrorKind::BadConfig, "parallel_restores must be 1..size");
    struct stat status { };
    if (options.snapshot_directory.empty() || ::stat((options.snapshot_directory + "/state").c_str(), &status) < 0)
        return fail(ErrorKind::BadConfig, "not a snapshot directory (no state file): " + options.snapshot_directory);
    auto state = std::make_shared<State>();
    state->options = std::move(options);
    for (size_t i = 0; i < state->options.parallel_restores; ++i)
        state->fillers.emplace_back([raw = state.get()] { raw->fill(); });
    return Pool(std::move(state));
}

Result<Sandbox> Pool::take(std::chrono::milliseconds timeout)
{
    std::unique_lock guard(m_state->lock);
    if (!m_state->changed.wait_for(guard, timeout, [&] { return !m_state->ready.empty(); })) {
        std::string why = "no sandbox became ready within " + std::to_string(timeout.count()) + " ms";
        if (m_state->last_error)
            why += " (last restore: " + m_state->last_error->message + ")";
        return fail(ErrorKind::Timeout, why);
    }
    auto sandbox = std::move(m_state->ready.front());
    m_state->ready.pop_front();
    m_state->changed.notify_all(); // a filler restores the replacement
    return sandbox;
}

size_t Pool::ready() const
{
    std::lock_guard guard(m_state->lock);
    return m_state->ready.size();
}

} // namespace husk

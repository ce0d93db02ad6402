// The spawner thread: a queue of work items and a detached thread serving it. Both are leaked on
// purpose: destroying them at exit would race with the thread, and the process is ending anyway.
#include "sdk/src/spawner.hpp"

#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <thread>

namespace husk::detail {

namespace {

    struct Item {
        std::function<void()> const* work;
        bool done { false };
    };

    class Spawner {
    public:
        Spawner()
        {
            std::thread([this] { serve(); }).detach();
        }

        void run(std::function<void()> const& work)
        {
            Item item { &work };
            std::unique_lock lock(m_mutex);
            m_queue.push_back(&item);
            m_changed.notify_all();
            m_changed.wait(lock, [&] { return item.done; });
        }

    private:
        void serve()
        {
            // Signals meant for the application must not land on this thread (children get a
            // clean mask before exec).
            sigset_t all;
            sigfillset(&all);
            pthread_sigmask(SIG_BLOCK, &all, nullptr);
            std::unique_lock lock(m_mutex);
            for (;;) {
                m_changed.wait(lock, [&] { return !m_queue.empty(); });
                auto* item = m_queue.front();
                m_queue.pop_front();
                lock.unlock();
                (*item->work)();
                lock.lock();
                item->done = true;
                m_changed.notify_all();
            }
        }

        std::mutex m_mutex;
        std::condition_variable m_changed;
        std::deque<Item*> m_queue;
    };

} // namespace

void run_on_spawner_thread(std::function<void()> const& work)
{
    static auto* spawner = new Spawner();
    spawner->run(work);
}

} // namespace husk::detail

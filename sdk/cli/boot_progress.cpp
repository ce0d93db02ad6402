// BootProgress: a watcher thread that speaks only when the boot outlasts the quiet period.
#include "sdk/cli/boot_progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace husk::cli {

BootProgress::BootProgress(bool enabled, std::string what)
    : m_what(std::move(what))
    , m_started(std::chrono::steady_clock::now())
{
    if (enabled)
        m_thread = std::thread([this] { watch(); });
}

void BootProgress::watch()
{
    std::unique_lock lock(m_mutex);
    if (m_changed.wait_until(lock, m_started + quiet_period, [this] { return m_finished; }))
        return;
    m_announced = true;
    std::fprintf(stderr, "husk: booting the VM (%s)...\n", m_what.c_str());
}

void BootProgress::finish()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_finished)
            return;
        m_finished = true;
    }
    m_changed.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    if (m_announced) {
        auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
        std::fprintf(stderr, "husk: the VM was up after %.1f s\n", took);
    }
}

bool progress_wanted(bool quiet, bool verbose) { return !quiet && (verbose || isatty(STDERR_FILENO)); }

} // namespace husk::cli

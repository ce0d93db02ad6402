// CaseWatchdog: a thread that waits for the running test's deadline.
#include "tests/lab/case_watchdog.hpp"

#include "tests/lab/vmm_process.hpp"

#include <cstdio>
#include <unistd.h>

namespace husk::lab {

CaseWatchdog::CaseWatchdog(std::chrono::seconds limit)
    : m_limit(limit)
    , m_thread([this] { watch(); })
{
}

CaseWatchdog::~CaseWatchdog()
{
    {
        std::lock_guard lock(m_lock);
        m_stopping = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void CaseWatchdog::OnTestStart(::testing::TestInfo const& test)
{
    {
        std::lock_guard lock(m_lock);
        m_test = std::string(test.test_suite_name()) + "." + test.name();
        m_deadline = Clock::now() + m_limit;
    }
    m_changed.notify_all();
}

void CaseWatchdog::OnTestEnd(::testing::TestInfo const&)
{
    {
        std::lock_guard lock(m_lock);
        m_test.reset();
    }
    m_changed.notify_all();
}

void CaseWatchdog::watch()
{
    std::unique_lock lock(m_lock);
    while (!m_stopping) {
        if (!m_test) {
            m_changed.wait(lock);
            continue;
        }
        if (Clock::now() >= m_deadline)
            expire(*m_test);
        m_changed.wait_until(lock, m_deadline);
    }
}

void CaseWatchdog::expire(std::string const& test)
{
    std::fprintf(stderr,
        "\n[  FAILED  ] %s (hung: still running %lld s after it started; the harness waits no longer)\n"
        "where this process's threads wait:\n%s\n",
        test.c_str(), static_cast<long long>(m_limit.count()), describe_process_threads(::getpid()).c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(1);
}

} // namespace husk::lab

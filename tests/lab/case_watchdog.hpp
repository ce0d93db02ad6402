// CaseWatchdog: ends the test process, loudly and naming the test, when one test outlives its
// limit. run_vmm() bounds a VMM's run and its kill; this bounds everything else a test waits for
// (the host side's threads, a destructor, a bug of the harness itself), so a suite can never hang
// past a test's limit. Installed as a gtest listener: armed at each test's start, disarmed at its
// end. On expiry it prints a gtest-style FAILED line (tests/lab/repeat counts it), the kernel
// stacks of this process's threads, and exits with status 1.
#pragma once

#include <chrono>
#include <condition_variable>
#include <gtest/gtest.h>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace husk::lab {

class CaseWatchdog final : public ::testing::EmptyTestEventListener {
public:
    explicit CaseWatchdog(std::chrono::seconds limit);
    ~CaseWatchdog() override;
    CaseWatchdog(CaseWatchdog const&) = delete;
    CaseWatchdog& operator=(CaseWatchdog const&) = delete;

    void OnTestStart(::testing::TestInfo const& test) override;
    void OnTestEnd(::testing::TestInfo const& test) override;

private:
    using Clock = std::chrono::steady_clock;
    void watch();
    [[noreturn]] void expire(std::string const& test);

    std::chrono::seconds m_limit;
    std::mutex m_lock;
    std::condition_variable m_changed;
    std::optional<std::string> m_test; // the test running, "Suite.Name"
    Clock::time_point m_deadline {};
    bool m_stopping { false };
    std::thread m_thread;
};

} // namespace husk::lab

#include "runtime/base/log_limiter.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

namespace husk {
namespace {

    TEST(LogLimiter, FirstLinesInFullThenOnlyAtPowersOfTwoWithTheSuppressedCount)
    {
        LogLimiter limiter(10);
        std::vector<uint64_t> written_at;
        std::vector<uint64_t> suppressed;
        for (uint64_t n = 1; n <= 1000; ++n) {
            auto decision = limiter.admit(7);
            if (decision.write) {
                written_at.push_back(n);
                suppressed.push_back(decision.suppressed_before);
            }
        }

        EXPECT_EQ(written_at, (std::vector<uint64_t> { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 128, 256, 512 }));
        EXPECT_EQ(suppressed, (std::vector<uint64_t> { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 15, 31, 63, 127, 255 }));
    }

    TEST(LogLimiter, AMillionLinesFromOneSource_WriteFewerThanThirty)
    {
        LogLimiter limiter;
        int written = 0;
        for (int n = 0; n < 1'000'000; ++n)
            written += limiter.admit(1).write;

        EXPECT_EQ(written, 10 + 16); // 16, 32, ..., 2^19
    }

    TEST(LogLimiter, Sources_AreCountedApart)
    {
        LogLimiter limiter(1);
        EXPECT_TRUE(limiter.admit(1).write);
        EXPECT_TRUE(limiter.admit(2).write);
        EXPECT_TRUE(limiter.admit(1).write); // 2: a power of two
        EXPECT_FALSE(limiter.admit(1).write);
        EXPECT_TRUE(limiter.admit(2).write);
    }

    TEST(LogLimiter, ManyThreads_CountEveryLineOnce)
    {
        LogLimiter limiter(0);
        std::atomic<int> written { 0 };
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int n = 0; n < 4096; ++n)
                    written += limiter.admit(3).write;
            });
        for (auto& thread : threads)
            thread.join();

        EXPECT_EQ(written.load(), 15); // 1, 2, 4, ..., 16384 of 16384 lines
    }

} // namespace
} // namespace husk

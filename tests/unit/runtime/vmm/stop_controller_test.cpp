// StopController: first request wins and wakes the main thread; reset classification.
#include "runtime/vmm/stop_controller.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <thread>
#include <vector>

using namespace husk;

TEST(StopController, Fresh_IsNotRequestedAndNotReadable)
{
    auto stop = StopController::create();
    ASSERT_TRUE(stop);
    EXPECT_FALSE(stop->requested());
    EXPECT_FALSE(stop->decision());
    pollfd fd { stop->event_fd(), POLLIN, 0 };
    EXPECT_EQ(::poll(&fd, 1, 0), 0);
}

TEST(StopController, FirstRequest_WinsAndWakesPoller)
{
    auto stop = StopController::create();
    ASSERT_TRUE(stop);
    EXPECT_TRUE(stop->request(StopReason::Timeout, "first"));
    EXPECT_FALSE(stop->request(StopReason::GuestCrashed, "second"));
    EXPECT_TRUE(stop->requested());
    ASSERT_TRUE(stop->decision());
    EXPECT_EQ(stop->decision()->reason, StopReason::Timeout);
    EXPECT_EQ(stop->decision()->detail, "first");
    pollfd fd { stop->event_fd(), POLLIN, 0 };
    EXPECT_EQ(::poll(&fd, 1, 0), 1);
}

TEST(StopController, ConcurrentRequests_ExactlyOneWins)
{
    auto stop = StopController::create();
    ASSERT_TRUE(stop);
    std::atomic<int> winners { 0 };
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            if (stop->request(StopReason::KvmError, std::to_string(i)))
                ++winners;
        });
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(winners, 1);
}

TEST(ClassifyGuestReset, WithShutdownIntent_IsGuestShutdown)
{
    GuestStatus status;
    status.shutdown_intent = true;
    auto request = classify_guest_reset(status, "i8042 reset");
    EXPECT_EQ(request.reason, StopReason::GuestShutdown);
    EXPECT_NE(request.detail.find("i8042 reset"), std::string::npos);
}

TEST(ClassifyGuestReset, WithoutIntent_IsGuestCrashed)
{
    GuestStatus status;
    status.exit_code = 0; // a job status alone does not make a reset clean
    auto request = classify_guest_reset(status, "port 0xcf9 reset");
    EXPECT_EQ(request.reason, StopReason::GuestCrashed);
    EXPECT_NE(request.detail.find("panic"), std::string::npos);
}

// TokenBucket and RateLimiter on an injected clock: refill in proportion to time, the one-time
// burst, over-consumption of a request larger than the bucket, debt from charges, the wait
// before a retry, and both budgets of a limiter having to agree.
#include "virtio/net/rate_limiter.hpp"
#include "virtio/net/token_bucket.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace std::chrono_literals;

namespace {
const RateClock::time_point t0 {};
constexpr TokenBucketConfig thousand_per_second { 1000, 0, 1000ms };
} // namespace

TEST(TokenBucket, Consume_WithinBudget_SucceedsUntilEmpty)
{
    TokenBucket bucket(thousand_per_second, t0);
    EXPECT_TRUE(bucket.consume(600, t0));
    EXPECT_TRUE(bucket.consume(400, t0));
    EXPECT_FALSE(bucket.consume(1, t0));
    EXPECT_EQ(bucket.budget(t0), 0);
}

TEST(TokenBucket, Consume_Refused_TakesNothing)
{
    TokenBucket bucket(thousand_per_second, t0);
    ASSERT_TRUE(bucket.consume(900, t0));
    EXPECT_FALSE(bucket.consume(200, t0));
    EXPECT_EQ(bucket.budget(t0), 100);
}

TEST(TokenBucket, Refill_ProportionalToElapsedTime_CappedAtSize)
{
    TokenBucket bucket(thousand_per_second, t0);
    ASSERT_TRUE(bucket.consume(1000, t0));
    EXPECT_EQ(bucket.budget(t0 + 250ms), 250);
    EXPECT_EQ(bucket.budget(t0 + 999ms), 999);
    EXPECT_EQ(bucket.budget(t0 + 10s), 1000);
}

TEST(TokenBucket, Refill_ManySmallSteps_NoDrift)
{
    TokenBucket bucket(TokenBucketConfig { 3, 0, 1000ms }, t0);
    ASSERT_TRUE(bucket.consume(3, t0));
    // 3 tokens per second in 1 ms steps: exact, although a step is a third of a token's time.
    auto now = t0;
    for (int step = 0; step < 1000; ++step) {
        now += 1ms;
        (void)bucket.budget(now);
    }
    EXPECT_EQ(bucket.budget(now), 3);
}

TEST(TokenBucket, OneTimeBurst_SpentFirst_NeverRefilled)
{
    TokenBucket bucket(TokenBucketConfig { 100, 500, 1000ms }, t0);
    EXPECT_TRUE(bucket.consume(550, t0)); // 500 from the burst, 50 from the budget
    EXPECT_EQ(bucket.one_time_burst(), 0u);
    EXPECT_EQ(bucket.budget(t0), 50);
    EXPECT_EQ(bucket.budget(t0 + 5s), 100);
    EXPECT_EQ(bucket.one_time_burst(), 0u);
}

TEST(TokenBucket, OversizedRequest_PassesWhenFull_ThenDebtIsPaidInTime)
{
    TokenBucket bucket(thousand_per_second, t0);
    EXPECT_TRUE(bucket.consume(3000, t0)); // three buckets' worth: over-consumption
    EXPECT_EQ(bucket.budget(t0), -2000);
    EXPECT_FALSE(bucket.consume(1, t0 + 1s));
    EXPECT_EQ(bucket.time_until(1, t0 + 1s), 1001ms); // from -1000 to one token
    EXPECT_TRUE(bucket.consume(1, t0 + 2001ms));
}

TEST(TokenBucket, OversizedRequest_NotFull_Refused)
{
    TokenBucket bucket(thousand_per_second, t0);
    ASSERT_TRUE(bucket.consume(1, t0));
    EXPECT_FALSE(bucket.consume(3000, t0));
    EXPECT_EQ(bucket.time_until(3000, t0), 1ms); // waits for a full bucket
    EXPECT_TRUE(bucket.consume(3000, t0 + 1ms));
}

TEST(TokenBucket, Charge_GoesIntoDebt)
{
    TokenBucket bucket(thousand_per_second, t0);
    bucket.charge(1500, t0);
    EXPECT_EQ(bucket.budget(t0), -500);
    EXPECT_FALSE(bucket.has_tokens(t0 + 500ms));
    EXPECT_TRUE(bucket.has_tokens(t0 + 501ms));
}

TEST(TokenBucket, TimeUntil_RoundsUpToWholeNanoseconds)
{
    TokenBucket bucket(TokenBucketConfig { 3, 0, 1000ms }, t0);
    ASSERT_TRUE(bucket.consume(3, t0));
    auto wait = bucket.time_until(1, t0);
    EXPECT_EQ(wait, std::chrono::nanoseconds(333'333'334));
    EXPECT_TRUE(bucket.consume(1, t0 + wait));
}

TEST(TokenBucket, ClockGoingBack_AddsNothing)
{
    TokenBucket bucket(thousand_per_second, t0 + 10s);
    ASSERT_TRUE(bucket.consume(1000, t0 + 10s));
    EXPECT_EQ(bucket.budget(t0), 0);
}

TEST(RateLimiter, Unlimited_AlwaysPasses)
{
    RateLimiter limiter(RateLimiterConfig {}, t0);
    EXPECT_TRUE(limiter.is_unlimited());
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(limiter.consume(1 << 20, t0));
    EXPECT_EQ(limiter.time_until(1 << 20, t0).count(), 0);
}

TEST(RateLimiter, PacketBudgetExhausted_ByteBudgetUntouched)
{
    RateLimiter limiter(RateLimiterConfig { thousand_per_second, TokenBucketConfig { 2, 0, 1000ms } }, t0);
    EXPECT_TRUE(limiter.consume(100, t0));
    EXPECT_TRUE(limiter.consume(100, t0));
    EXPECT_FALSE(limiter.consume(100, t0)); // third frame in the same second
    EXPECT_EQ(limiter.time_until(100, t0), 500ms);
    // The refused frame took no bytes: 800 are left, so an 800-byte frame passes once a packet
    // token is back.
    EXPECT_TRUE(limiter.consume(800, t0 + 500ms));
}

TEST(RateLimiter, ByteBudgetExhausted_PacketBudgetUntouched)
{
    RateLimiter limiter(RateLimiterConfig { thousand_per_second, TokenBucketConfig { 10, 0, 1000ms } }, t0);
    EXPECT_TRUE(limiter.consume(1000, t0));
    EXPECT_FALSE(limiter.consume(500, t0));
    EXPECT_EQ(limiter.time_until(500, t0), 500ms);
    EXPECT_TRUE(limiter.consume(500, t0 + 500ms));
}

TEST(RateLimiter, MayStartAndCharge_DebtBlocksTheNextStart)
{
    RateLimiter limiter(RateLimiterConfig { thousand_per_second, std::nullopt }, t0);
    EXPECT_TRUE(limiter.may_start(t0));
    limiter.charge(2000, t0); // a frame bigger than the budget, sized after it was read
    EXPECT_FALSE(limiter.may_start(t0 + 1s));
    EXPECT_EQ(limiter.time_until(0, t0 + 1s), 1ms);
    EXPECT_TRUE(limiter.may_start(t0 + 1001ms));
}

TEST(RateLimiter, SustainedRate_MatchesConfiguredBytesPerSecond)
{
    RateLimiter limiter(RateLimiterConfig { TokenBucketConfig { 10000, 0, 1000ms }, std::nullopt }, t0);
    // A sender that retries after time_until() moves size + rate × seconds bytes.
    auto now = t0;
    uint64_t sent = 0;
    while (now < t0 + 10s) {
        if (limiter.consume(1500, now))
            sent += 1500;
        else
            now += limiter.time_until(1500, now);
    }
    EXPECT_GE(sent, 10000u * 10);
    EXPECT_LE(sent, 10000u * 11 + 1500);
}

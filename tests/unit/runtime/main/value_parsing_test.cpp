// Size, duration and bounded-integer parsing: suffixes, every rejection path.
#include "runtime/main/value_parsing.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace std::chrono_literals;

namespace {
void expect_error_mentions(Result<uint64_t> const& result, std::string const& fragment)
{
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
}
} // namespace

TEST(ParseSize, Suffixes_ScaleByPowersOf1024)
{
    EXPECT_EQ(*parse_size("512K"), 512ull << 10);
    EXPECT_EQ(*parse_size("128M"), 128ull << 20);
    EXPECT_EQ(*parse_size("1G"), 1ull << 30);
    EXPECT_EQ(*parse_size("2T"), 2ull << 40);
    EXPECT_EQ(*parse_size("128m"), 128ull << 20);
}

TEST(ParseSize, PlainBytes_AreAccepted)
{
    EXPECT_EQ(*parse_size("134217728"), 134217728u);
    EXPECT_EQ(*parse_size("4096"), 4096u);
}

TEST(ParseSize, Empty_IsRejected) { expect_error_mentions(parse_size(""), "empty"); }
TEST(ParseSize, Garbage_IsRejected) { expect_error_mentions(parse_size("lots"), "decimal"); }
TEST(ParseSize, NegativeNumber_IsRejected) { expect_error_mentions(parse_size("-128M"), "decimal"); }
TEST(ParseSize, LeadingSpace_IsRejected) { expect_error_mentions(parse_size(" 128M"), "decimal"); }
TEST(ParseSize, UnknownSuffix_IsRejected) { expect_error_mentions(parse_size("128X"), "suffix"); }
TEST(ParseSize, TrailingGarbage_IsRejected) { expect_error_mentions(parse_size("128MB"), "suffix"); }
TEST(ParseSize, Zero_IsRejected) { expect_error_mentions(parse_size("0M"), "zero"); }
TEST(ParseSize, NotPageMultiple_IsRejected) { expect_error_mentions(parse_size("4097"), "4 KiB"); }
TEST(ParseSize, DigitsOverflowing64Bits_AreRejected)
{
    expect_error_mentions(parse_size("99999999999999999999999"), "too large");
}
TEST(ParseSize, SuffixOverflowing64Bits_IsRejected) { expect_error_mentions(parse_size("16777216T"), "too large"); }

TEST(ParseMemorySize, Bounds_AreEnforced)
{
    EXPECT_EQ(*parse_memory_size("32M"), 32ull << 20);
    EXPECT_EQ(*parse_memory_size("64G"), 64ull << 30);
    expect_error_mentions(parse_memory_size("31M"), "minimum");
    expect_error_mentions(parse_memory_size("65G"), "maximum");
    expect_error_mentions(parse_memory_size("0"), "zero");
}

TEST(ParseDuration, Units_ConvertToMilliseconds)
{
    EXPECT_EQ(*parse_duration("500ms"), 500ms);
    EXPECT_EQ(*parse_duration("30s"), 30s);
    EXPECT_EQ(*parse_duration("2m"), 2min);
    EXPECT_EQ(*parse_duration("1h"), 1h);
}

TEST(ParseDuration, BareNumber_MeansSeconds) { EXPECT_EQ(*parse_duration("10"), 10s); }

TEST(ParseDuration, Malformed_AreRejected)
{
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("10x"));
    EXPECT_FALSE(parse_duration("10 s"));
    EXPECT_FALSE(parse_duration("-5s"));
    EXPECT_FALSE(parse_duration("1.5s"));
    EXPECT_FALSE(parse_duration("0s"));
    EXPECT_FALSE(parse_duration("0"));
}

TEST(ParseDuration, Overflow_IsRejected)
{
    auto result = parse_duration("9223372036854775807h");
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("too large"), std::string::npos);
}

TEST(ParseBoundedInteger, Range_IsEnforced)
{
    EXPECT_EQ(*parse_bounded_integer("1", 1, 32), 1u);
    EXPECT_EQ(*parse_bounded_integer("32", 1, 32), 32u);
    EXPECT_FALSE(parse_bounded_integer("0", 1, 32));
    EXPECT_FALSE(parse_bounded_integer("33", 1, 32));
    EXPECT_FALSE(parse_bounded_integer("2x", 1, 32));
    EXPECT_FALSE(parse_bounded_integer("", 1, 32));
}

// Size and duration parsing: accepted spellings and clear rejections.
#include "husk/units.hpp"

#include <gtest/gtest.h>

namespace husk::units {
namespace {

    using namespace std::chrono_literals;

    TEST(SdkParseSize, BinarySuffixes_ScaleBy1024)
    {
        EXPECT_EQ(*parse_size("4096"), 4096u);
        EXPECT_EQ(*parse_size("512B"), 512u);
        EXPECT_EQ(*parse_size("64k"), 64u << 10);
        EXPECT_EQ(*parse_size("256M"), 256u << 20);
        EXPECT_EQ(*parse_size("256MiB"), 256u << 20);
        EXPECT_EQ(*parse_size("1gb"), 1ull << 30);
        EXPECT_EQ(*parse_size("2T"), 2ull << 40);
    }

    TEST(SdkParseSize, MalformedValues_AreBadConfigWithTheReason)
    {
        struct Case {
            char const* text;
            char const* reason;
        };
        for (auto const& [text, reason] : { Case { "", "empty" }, Case { "M", "digits first" },
                 Case { "-1M", "digits first" }, Case { "+1M", "digits first" }, Case { "1.5G", "whole numbers" },
                 Case { "25OM", "unknown unit" }, Case { "1 M", "unknown unit" }, Case { "10X", "unknown unit" },
                 Case { "99999999999999999999", "too large" }, Case { "20000000000G", "too large" } }) {
            auto parsed = parse_size(text);
            ASSERT_FALSE(parsed) << text;
            EXPECT_EQ(parsed.error().kind, ErrorKind::BadConfig) << text;
            EXPECT_NE(parsed.error().message.find(reason), std::string::npos) << text << ": " << parsed.error().message;
        }
    }

    TEST(SdkParseDuration, Units_Convert)
    {
        EXPECT_EQ(*parse_duration("500ms"), 500ms);
        EXPECT_EQ(*parse_duration("30s"), 30s);
        EXPECT_EQ(*parse_duration("30"), 30s);
        EXPECT_EQ(*parse_duration("2m"), 2min);
        EXPECT_EQ(*parse_duration("1H"), 1h);
        EXPECT_EQ(*parse_duration("0s"), 0s);
    }

    TEST(SdkParseDuration, MalformedValues_AreBadConfigWithTheReason)
    {
        struct Case {
            char const* text;
            char const* reason;
        };
        for (auto const& [text, reason] : { Case { "", "empty" }, Case { "s", "digits first" },
                 Case { "-5s", "digits first" }, Case { "1.5s", "whole numbers" }, Case { "10sec", "unknown unit" },
                 Case { "5d", "unknown unit" }, Case { "1m30s", "unknown unit" },
                 Case { "99999999999999999999h", "too large" }, Case { "9999999999999999h", "too large" } }) {
            auto parsed = parse_duration(text);
            ASSERT_FALSE(parsed) << text;
            EXPECT_EQ(parsed.error().kind, ErrorKind::BadConfig) << text;
            EXPECT_NE(parsed.error().message.find(reason), std::string::npos) << text << ": " << parsed.error().message;
        }
    }

    TEST(SdkFormatSize, PicksTheLargestWholeUnit)
    {
        EXPECT_EQ(format_size(512), "512 B");
        EXPECT_EQ(format_size(256ull << 20), "256 MiB");
        EXPECT_EQ(format_size(3ull << 29), "1.5 GiB");
    }

} // namespace
} // namespace husk::units

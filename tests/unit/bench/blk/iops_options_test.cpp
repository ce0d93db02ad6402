// husk-blk-iops argument parsing: defaults, every flag, and malformed arguments.
#include "bench/blk/iops_options.hpp"

#include <gtest/gtest.h>

using namespace husk::bench;

namespace {

husk::Result<IopsOptions> parse(std::vector<std::string_view> arguments) { return parse_iops_options(arguments); }

} // namespace

TEST(IopsOptions, DeviceOnly_DefaultsToDirectQd1And32)
{
    auto options = parse({ "/dev/vda" });

    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->device, "/dev/vda");
    EXPECT_EQ(options->direct, DirectIo::On);
    EXPECT_EQ(options->depths, (std::vector<unsigned> { 1, 32 }));
    EXPECT_FALSE(options->count);
}

TEST(IopsOptions, EveryFlag_IsTaken)
{
    auto options = parse({ "--no-direct", "--count", "500", "--qd", "4", "--qd", "1", "--seed", "9", "disk.img" });

    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->direct, DirectIo::Off);
    EXPECT_EQ(options->count, 500u);
    EXPECT_EQ(options->depths, (std::vector<unsigned> { 4, 1 }));
    EXPECT_EQ(options->seed, 9u);
    EXPECT_EQ(options->device, "disk.img");
}

TEST(IopsOptions, FractionalSeconds_IsTaken)
{
    auto options = parse({ "--seconds", "0.5", "/dev/vda" });

    ASSERT_TRUE(options) << options.error().message;
    EXPECT_DOUBLE_EQ(options->seconds, 0.5);
}

TEST(IopsOptions, MalformedArguments_AreRefused)
{
    std::vector<std::vector<std::string_view>> cases {
        {},
        { "--qd", "1" },
        { "--qd", "0", "d" },
        { "--qd", "257", "d" },
        { "--qd", "-1", "d" },
        { "--qd", "3x", "d" },
        { "--qd", "", "d" },
        { "--count", "0", "d" },
        { "--count", "99999999999999999999999", "d" },
        { "--seconds", "0", "d" },
        { "--seconds", "-2", "d" },
        { "--seconds", "nan", "d" },
        { "--seconds", "inf", "d" },
        { "--seconds", "1", "--count", "5", "d" },
        { "--seed", "x", "d" },
        { "d", "--seed" },
        { "--fast", "d" },
        { "-", "d" },
        { "d", "e" },
    };
    for (auto const& arguments : cases) {
        auto options = parse(arguments);
        std::string joined;
        for (auto argument : arguments)
            joined += std::string(argument) + " ";
        EXPECT_FALSE(options) << "accepted: " << joined;
        if (!options) {
            EXPECT_FALSE(options.error().message.empty());
        }
    }
}

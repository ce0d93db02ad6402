// hex(): the one hexadecimal formatter of error messages.
#include "runtime/base/hex.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(Hex, NoMinimumWidth_PrintsShortestDigits)
{
    EXPECT_EQ(hex(0), "0x0");
    EXPECT_EQ(hex(0xd0000000), "0xd0000000");
    EXPECT_EQ(hex(UINT64_MAX), "0xffffffffffffffff");
}

TEST(Hex, MinimumWidth_PadsWithZeros)
{
    EXPECT_EQ(hex(0x4b535549, 8), "0x4b535549");
    EXPECT_EQ(hex(0x1f, 8), "0x0000001f");
    EXPECT_EQ(hex(0x123456789, 8), "0x123456789"); // a minimum, never a truncation
}

TEST(Hex, OutOfRangeWidth_IsClamped)
{
    EXPECT_EQ(hex(1, -3), "0x1");
    EXPECT_EQ(hex(1, 40), "0x0000000000000001");
}

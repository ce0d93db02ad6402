// The SDK's reading of husk-vmm's control socket replies.
#include "sdk/src/vmm_control.hpp"

#include <gtest/gtest.h>

using namespace husk;
using husk::detail::parse_control_reply;

TEST(VmmControlReply, Ok_GivesTheDetails)
{
    EXPECT_EQ(parse_control_reply("OK", ErrorKind::Other).value(), "");
    EXPECT_EQ(parse_control_reply("OK 12864 268435456", ErrorKind::Other).value(), "12864 268435456");
}

TEST(VmmControlReply, Err_BecomesAnErrorOfTheGivenKind)
{
    auto reply = parse_control_reply(
        "ERR cannot snapshot this VM: virtio-net (slot 2) has no snapshot support", ErrorKind::BadConfig);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().kind, ErrorKind::BadConfig);
    EXPECT_EQ(reply.error().message, "cannot snapshot this VM: virtio-net (slot 2) has no snapshot support");
}

TEST(VmmControlReply, AnythingElse_IsRefusedPrintably)
{
    for (std::string_view line : { "", "OKAY", "ok", "ERR", "\x7f\x01 garbage" }) {
        auto reply = parse_control_reply(line, ErrorKind::Other);
        ASSERT_FALSE(reply) << line;
        for (char c : reply.error().message)
            EXPECT_TRUE(c >= 0x20 && c < 0x7f);
    }
}

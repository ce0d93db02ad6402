// parse_connect_line: an accept/reject table for the hybrid-vsock handshake, and the OK reply.
#include "runtime/vsock/connect_line.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk;

namespace {

TEST(ConnectLine, ParseConnectLine_WellFormedLines_YieldPort)
{
    struct Case {
        std::string line;
        uint32_t port;
    };
    for (auto const& [line, port] :
        { Case { "CONNECT 0\n", 0 }, Case { "CONNECT 1\n", 1 }, Case { "CONNECT 1234\n", 1234 },
            Case { "CONNECT 1073741824\n", 1073741824 }, Case { "CONNECT 4294967295\n", 4294967295u } }) {
        auto parsed = parse_connect_line(line);
        ASSERT_TRUE(parsed) << line << ": " << parsed.error().message;
        EXPECT_EQ(*parsed, port) << line;
    }
}

TEST(ConnectLine, ParseConnectLine_MalformedLines_AreRejected)
{
    std::string const rejected[] = {
        "", "\n", "CONNECT\n", "CONNECT \n",
        "CONNECT 1234", // no newline
        "CONNECT 1234\r\n", // CR
        "CONNECT  1234\n", // two spaces
        "CONNECT 1234 \n", // trailing space
        " CONNECT 1234\n", // leading space
        "CONNECT\t1234\n", // tab
        "connect 1234\n", // lower case
        "CONNECTX 1234\n",
        "CONNECT +1234\n", // sign
        "CONNECT -1\n",
        "CONNECT 01234\n", // leading zero
        "CONNECT 00\n",
        "CONNECT 0x10\n", // hex
        "CONNECT 12a4\n",
        "CONNECT 4294967296\n", // 2^32
        "CONNECT 99999999999\n", // 11 digits
        "CONNECT 1234\nextra", // bytes after the newline
        "CONNECT 1234\n\n",
        std::string("CONNECT 12\0"
                    "34\n",
            13), // NUL inside
        "OK 1234\n", std::string("CONNECT ") + std::string(24, '1') + "\n", // over 32 bytes
    };
    for (auto const& line : rejected)
        EXPECT_FALSE(parse_connect_line(line)) << "accepted: \"" << line << "\"";
}

TEST(ConnectLine, ParseConnectLine_ExactlyMaximumLength_IsStillParsed)
{
    // 32 bytes of well-formed syntax can only be an over-long number: rejected for its value,
    // not for its length, which shows the bound is inclusive.
    std::string line = "CONNECT " + std::string(23, '9') + "\n";
    ASSERT_EQ(line.size(), max_connect_line);

    auto parsed = parse_connect_line(line);

    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message.find("longer"), std::string::npos) << parsed.error().message;
}

TEST(ConnectLine, FormatOkLine_WritesPortAndNewline)
{
    EXPECT_EQ(format_ok_line(1073741824), "OK 1073741824\n");
    EXPECT_EQ(format_ok_line(0), "OK 0\n");
}

} // namespace

// The control socket's command lines.
#include "runtime/vmm/control_command.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(ControlCommand, KnownCommands_AreParsed)
{
    EXPECT_EQ(parse_control_line("PAUSE").value(), ControlCommand::Pause);
    EXPECT_EQ(parse_control_line("RESUME").value(), ControlCommand::Resume);
    EXPECT_EQ(parse_control_line("SNAPSHOT").value(), ControlCommand::Snapshot);
    EXPECT_EQ(parse_control_line("SNAPSHOT\r").value(), ControlCommand::Snapshot);
}

TEST(ControlCommand, SnapshotNeedsTwoDescriptors_OthersNone)
{
    EXPECT_EQ(control_command_fds(ControlCommand::Snapshot), 2u);
    EXPECT_EQ(control_command_fds(ControlCommand::Pause), 0u);
    EXPECT_EQ(control_command_fds(ControlCommand::Resume), 0u);
}

TEST(ControlCommand, UnknownOrMalformedLines_AreRefusedPrintably)
{
    for (std::string_view line : { "", "pause", "PAUSE ", "SNAPSHOT /tmp/x", "\x01\x02", "RESUME\r\r" }) {
        auto parsed = parse_control_line(line);
        ASSERT_FALSE(parsed) << line;
        for (char c : parsed.error().message)
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << parsed.error().message;
    }
}

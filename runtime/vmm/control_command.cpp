// Control socket command parsing.
#include "runtime/vmm/control_command.hpp"

#include <string>

namespace husk {

Result<ControlCommand> parse_control_line(std::string_view line)
{
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line == "PAUSE")
        return ControlCommand::Pause;
    if (line == "RESUME")
        return ControlCommand::Resume;
    if (line == "SNAPSHOT")
        return ControlCommand::Snapshot;
    std::string printable;
    for (char c : line.substr(0, 32))
        printable += c >= 0x20 && c < 0x7f ? c : '?';
    return fail("unknown control command \"" + printable + "\" (PAUSE, RESUME or SNAPSHOT)");
}

size_t control_command_fds(ControlCommand command)
{
    return command == ControlCommand::Snapshot ? snapshot_command_fds : 0;
}

} // namespace husk

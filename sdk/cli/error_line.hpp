// Errors of the CLI are one line. SDK errors about a dead husk-vmm carry its last log lines
// after the first line; the CLI keeps the first line and the last log line (usually the reason)
// and leaves the rest to -v.
#pragma once

#include <string>

namespace husk::cli {

// "A; husk-vmm's last log lines:\n  x\n  y" → "A; husk-vmm's last log lines: y (--verbose shows more)".
std::string one_line(std::string const& message);

} // namespace husk::cli

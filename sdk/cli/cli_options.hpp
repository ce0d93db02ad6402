// The husk command line: `husk run`, `husk snapshot create`, `husk doctor`, `husk version` (or --version), parsed with CLI11 into plain
// structs. Parsing is a pure function of argv (plus the host environment for `--env NAME`), so
// every accepted and rejected form is unit-tested.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace husk::cli {

struct RunCommand {
    SandboxOptions sandbox;
    StartOptions job; // env, workdir, timeout
    std::vector<std::string> argv;
    std::string from_snapshot; // --from DIR: restore this snapshot instead of booting
    bool json { false };
    bool quiet { false };
    bool verbose { false }; // progress lines even off a terminal; errors with husk-vmm's log
};

// `husk snapshot create DIR`: boot a sandbox, wait for its agent, save a snapshot into DIR.
struct SnapshotCommand {
    SandboxOptions sandbox;
    std::string directory;
    bool quiet { false };
};

enum class CommandKind { Run, Doctor, Version, Help, SnapshotCreate };

struct Command {
    CommandKind kind { CommandKind::Help };
    RunCommand run;
    SnapshotCommand snapshot;
    std::string help_text; // for Help: what to print on stdout
};

// argv as main() gets it. Errors are one line for humans (kind BadConfig).
Result<Command> parse_command_line(std::vector<std::string> const& argv);

// One --rootfs value into `sandbox`: PATH[,ro|,rw]. An existing directory (made absolute) becomes
// rootfs_dir, `,rw` writing in place; anything else is an image path or asset name (rootfs_path)
// and takes no flag.
Result<void> parse_rootfs(std::string_view text, SandboxOptions& sandbox);

// One --volume / -v value, HOST:GUEST[:ro|:rw] as docker spells it; a relative HOST is made
// absolute against the current directory. The SDK checks the rest (sdk/src/mounts.cpp).
Result<Mount> parse_volume(std::string_view text);

} // namespace husk::cli

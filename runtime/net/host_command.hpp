// Running the host tools the network set-up uses (ip, dnsmasq) as root: found in the system
// directories only (never through $PATH), started with fork+execve and an argv (no shell), with
// a clean environment, optionally inside a network namespace. Set-up only: after the jailed
// VMM's PID namespace has lost its init, the launcher cannot fork any more, so teardown and
// reaping never run commands (network_teardown.hpp).
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk {

// /usr/sbin, /sbin, /usr/bin, /bin, in that order; an error naming the Debian package if absent.
Result<std::string> find_host_tool(std::string const& name, std::string const& package);

// Runs argv[0] (an absolute path) to completion. A non-zero exit is an error carrying the
// command and the first lines of its stderr.
// `input` (small: it is written whole before anything is read) is the command's stdin.
Result<void> run_host_command(std::vector<std::string> const& argv, std::string const& input = {});

// A process started in the background: its pid (the caller stops and waits for it) and the
// read end of a pipe that is its stderr (non-blocking). Its stderr is never husk-vmm's own: a
// process that outlives a killed launcher must not keep the launcher's log open for its reader.
struct StartedProcess {
    pid_t pid { -1 };
    Fd errors;
};

// Starts argv[0] in the network namespace at `netns_path`, stdin and stdout on /dev/null.
Result<StartedProcess> start_in_network_namespace(std::string const& netns_path, std::vector<std::string> const& argv);

} // namespace husk

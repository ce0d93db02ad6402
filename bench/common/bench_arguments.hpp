// The one command-line parser of every benchmark driver: each benchmark declares its own options
// on a CLI11 app, add_image_options() adds the VMM and image paths they all take, and
// parse_bench_arguments() turns --help, unknown options and bad values into an exit status.
#pragma once

#include "bench/common/peer_vm.hpp"

#include <CLI/CLI.hpp>
#include <optional>

namespace husk::bench {

// --vmm, --kernel, --initrd (required) and --qemu (the peer; default from PATH).
void add_image_options(CLI::App& app, VmImages& images);

// nullopt: go on and run. Otherwise the status main() returns: 0 after --help, 2 after a usage
// error (printed with the usage on stderr).
std::optional<int> parse_bench_arguments(CLI::App& app, int argc, char** argv);

} // namespace husk::bench

// `husk snapshot create`.
#include "sdk/cli/snapshot_command.hpp"

#include "husk/exit_status.hpp"
#include "husk/sandbox.hpp"
#include "sdk/cli/error_line.hpp"

#include <cstdio>
#include <string>

namespace husk::cli {

int snapshot_create_command(SnapshotCommand const& command)
{
    auto sandbox = Sandbox::create(command.sandbox);
    if (!sandbox) {
        std::fprintf(stderr, "husk: %s\n", one_line(sandbox.error().message).c_str());
        return exit_status_runtime_error;
    }
    if (auto written = sandbox->snapshot(command.directory); !written) {
        std::fprintf(stderr, "husk: %s\n", one_line(written.error().message).c_str());
        return exit_status_runtime_error;
    }
    (void)sandbox->shutdown();
    if (!command.quiet) {
        std::string restore_options;
        if (!command.sandbox.rootfs_path.empty())
            restore_options += " --rootfs " + command.sandbox.rootfs_path;
        if (command.sandbox.network != "none")
            restore_options += " --net " + command.sandbox.network;
        std::fprintf(stderr, "husk: snapshot written to %s (husk run --from %s%s -- ...)\n", command.directory.c_str(),
            command.directory.c_str(), restore_options.c_str());
    }
    return 0;
}

} // namespace husk::cli

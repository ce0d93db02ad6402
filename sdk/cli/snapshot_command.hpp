// `husk snapshot create DIR`: boots a sandbox, waits for its agent, writes a snapshot of it into
// DIR and stops it. `husk run --from DIR` restores from it.
#pragma once

#include "sdk/cli/cli_options.hpp"

namespace husk::cli {

int snapshot_create_command(SnapshotCommand const& command);

} // namespace husk::cli

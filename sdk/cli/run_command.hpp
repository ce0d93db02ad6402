// `husk run`: one sandbox, one job, stdio passed through live, SIGINT/SIGTERM/SIGHUP/SIGQUIT
// forwarded to the job, docker-style exit status.
#pragma once

#include "sdk/cli/cli_options.hpp"

namespace husk::cli {

int run_command(RunCommand command);

} // namespace husk::cli

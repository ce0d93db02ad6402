// husk: the command-line front end of libhusk.
#include "husk/exit_status.hpp"
#include "husk/version.hpp"
#include "sdk/cli/cli_options.hpp"
#include "sdk/cli/doctor.hpp"
#include "sdk/cli/run_command.hpp"
#include "sdk/cli/snapshot_command.hpp"

#include <cstdio>

int main(int argc, char** argv)
{
    using namespace husk::cli;
    auto command = parse_command_line(std::vector<std::string>(argv, argv + argc));
    if (!command) {
        std::fprintf(stderr, "husk: %s\n", command.error().message.c_str());
        return husk::exit_status_runtime_error;
    }
    switch (command->kind) {
    case CommandKind::Run:
        return run_command(std::move(command->run));
    case CommandKind::SnapshotCreate:
        return snapshot_create_command(command->snapshot);
    case CommandKind::Doctor:
        return doctor_command();
    case CommandKind::Version:
        std::printf("husk %s (job protocol %u)\n", std::string(husk::version()).c_str(), husk::protocol_version());
        return 0;
    case CommandKind::Help:
        std::fputs(command->help_text.c_str(), stdout);
        return 0;
    }
    return husk::exit_status_runtime_error;
}

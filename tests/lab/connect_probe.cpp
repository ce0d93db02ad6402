// husk-lab-connect-probe: another process taking over a detached sandbox, for
// tests/lab/sdk_detach_lab_test.cpp. Usage: husk-lab-connect-probe DIR stop|detach -- CMD ARGS...
// Connects, runs CMD and prints its stdout, then stops the VM or detaches it again (printing the
// directory on a line of its own). Exit status 0, or 1 with one line on stderr.
#include "husk/husk.hpp"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    if (argc < 5 || std::string(argv[3]) != "--") {
        std::fprintf(stderr, "usage: husk-lab-connect-probe DIR stop|detach -- CMD ARGS...\n");
        return 2;
    }
    std::string const then = argv[2];
    husk::SandboxOptions options;
    options.boot_timeout = std::chrono::seconds(30);
    auto sandbox = husk::Sandbox::connect(argv[1], options);
    if (!sandbox) {
        std::fprintf(stderr, "connect: %s: %s\n", std::string(husk::error_kind_name(sandbox.error().kind)).c_str(),
            sandbox.error().message.c_str());
        return 1;
    }
    auto result = sandbox->run(std::vector<std::string>(argv + 4, argv + argc));
    if (!result) {
        std::fprintf(stderr, "run: %s\n", result.error().message.c_str());
        return 1;
    }
    std::printf("%s", result->stdout_data.c_str());
    if (then == "detach") {
        auto detached = sandbox->detach();
        if (!detached) {
            std::fprintf(stderr, "detach: %s\n", detached.error().message.c_str());
            return 1;
        }
        std::printf("%s\n", detached->directory.c_str());
    }
    return 0;
}

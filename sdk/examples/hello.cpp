// The smallest libhusk program: boot a sandbox, run a command in it, print what it said.
#include "husk/husk.hpp"

#include <cstdio>

int main()
{
    auto sandbox = husk::Sandbox::create({});
    if (!sandbox) {
        std::fprintf(stderr, "cannot create a sandbox (%s): %s\n",
            std::string(husk::error_kind_name(sandbox.error().kind)).c_str(), sandbox.error().message.c_str());
        return 1;
    }
    auto result = sandbox->run({ "uname", "-a" });
    if (!result) {
        std::fprintf(stderr, "run failed: %s\n", result.error().message.c_str());
        return 1;
    }
    std::printf("guest says: %s", result->stdout_data.c_str());
    return husk::docker_exit_status(*result);
}

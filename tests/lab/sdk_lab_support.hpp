// What the SDK lab tests share: sandbox options for TCG-nested boots, and a shell runner.
#pragma once

#include "husk/husk.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <utility>

namespace husk_lab {

inline husk::SandboxOptions lab_options()
{
    husk::SandboxOptions options;
    options.memory_bytes = 128ull << 20;
    options.boot_timeout = std::chrono::seconds(60); // TCG-nested boots are slow
    return options;
}

// Exit status and stdout of a shell command line.
inline std::pair<int, std::string> shell(std::string const& command)
{
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe)
        return { -1, out };
    char buffer[4096];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0)
        out.append(buffer, got);
    int status = pclose(pipe);
    return { WIFEXITED(status) ? WEXITSTATUS(status) : -1, out };
}

} // namespace husk_lab

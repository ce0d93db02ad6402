// What the SDK lab tests share: sandbox options for TCG-nested boots, a job runner, a shell runner, and
// /proc readers for process status fields and children.
#pragma once

#include "husk/husk.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <utility>
#include <vector>

namespace husk_lab {

inline husk::SandboxOptions lab_options()
{
    husk::SandboxOptions options;
    options.memory_bytes = 128ull << 20;
    options.boot_timeout = std::chrono::seconds(60); // TCG-nested boots are slow
    return options;
}

// The stdout of `script` run in the sandbox; a failed or non-zero run fails the test.
inline std::string run_ok(husk::Sandbox& sandbox, std::string const& script)
{
    auto result = sandbox.run_shell(script);
    EXPECT_TRUE(result) << script << ": " << (result ? "" : result.error().message);
    if (!result)
        return {};
    EXPECT_TRUE(result->ok()) << script << ": exit " << result->exit_code << ", stderr " << result->stderr_data;
    return result->stdout_data;
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

// A field of /proc/<pid>/status ("Uid", "PPid", ...); empty when absent.
inline std::string field(pid_t pid, std::string const& key)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(key + ":")) {
            auto start = line.find_first_not_of(" \t", key.size() + 1);
            return start == std::string::npos ? "" : line.substr(start);
        }
    }
    return "";
}

// A process's children (zombies included). From /proc/<parent>/task/*/children where the kernel
// has it (CONFIG_PROC_CHILDREN; the lab kernel does not), else by the PPid of every process.
inline std::vector<pid_t> children_of(pid_t parent)
{
    std::vector<pid_t> children;
    std::error_code error;
    bool listed = false;
    for (auto const& task : std::filesystem::directory_iterator("/proc/" + std::to_string(parent) + "/task", error)) {
        std::ifstream list(task.path() / "children");
        listed = listed || list.is_open();
        pid_t pid = 0;
        while (list >> pid)
            children.push_back(pid);
    }
    if (listed)
        return children;
    for (auto const& process : std::filesystem::directory_iterator("/proc", error)) {
        auto name = process.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        pid_t pid = std::stoi(name);
        if (field(pid, "PPid") == std::to_string(parent))
            children.push_back(pid);
    }
    return children;
}

} // namespace husk_lab

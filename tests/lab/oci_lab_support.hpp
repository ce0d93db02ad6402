// What the OCI lab suites (lab_oci, lab_oci_net) share: a shell runner that keeps stderr with
// stdout, and whole-file text helpers.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>

namespace husk_oci_lab {

namespace fs = std::filesystem;

struct Outcome {
    int status { -1 }; ///< exit code, or 128+N when killed by signal N
    std::string output; ///< stdout and stderr
};

inline Outcome shell(std::string const& command)
{
    Outcome outcome;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
        return outcome;
    char buffer[4096];
    size_t got;
    while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0)
        outcome.output.append(buffer, got);
    int status = pclose(pipe);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return outcome;
}

inline std::string read_text(fs::path const& path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_text(fs::path const& path, std::string const& text)
{
    std::ofstream out(path);
    out << text;
}

} // namespace husk_oci_lab

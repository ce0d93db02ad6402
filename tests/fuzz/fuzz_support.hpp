// What every fuzz target shares: FuzzedDataProvider (libFuzzer's input splitter, shipped with
// clang's headers) to turn the input into values, and require(), which turns a violated property
// into a crash that libFuzzer reports, naming the target file and line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>

namespace husk::fuzz {

inline void require_at(bool condition, char const* file, int line)
{
    if (condition)
        return;
    std::fprintf(stderr, "%s:%d: fuzz property violated\n", file, line);
    std::abort();
}

} // namespace husk::fuzz

// A macro so the report names the line of the property, not this header.
#define require(condition) ::husk::fuzz::require_at((condition), __FILE_NAME__, __LINE__)

// release_mapped_code: the read-only segments of this test process are advised away, its code
// and constants keep working (they fault back in), and its writable data is untouched.
#include "runtime/base/mapped_code.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <string>

using namespace husk;

namespace {
// A relocated pointer (RELRO) and writable data: MADV_DONTNEED on their segments would reset
// them to the file's bytes, so both must survive the release.
char const* const relocated_greeting = "a string in .rodata, pointed to from RELRO";
int g_written_counter = 0;

long rss_file_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("RssFile:"))
            return std::stol(line.substr(8));
    }
    return -1;
}

// Kept out of line so its code really runs from the text mapping after the release.
[[gnu::noinline]] int fibonacci(int n) { return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2); }
} // namespace

TEST(MappedCode, Release_AdvisesReadOnlySegmentsAndCodeKeepsRunning)
{
    g_written_counter = 41;
    int before_fibonacci = fibonacci(20);
    long before_rss = rss_file_kib();

    auto release = release_mapped_code();

    long after_rss = rss_file_kib();
    EXPECT_GT(release.ranges, 0u);
    EXPECT_GT(release.bytes, 0u);
    EXPECT_EQ(release.refused, 0u);
    EXPECT_LT(after_rss, before_rss) << "the file-backed resident set did not shrink";
    EXPECT_EQ(fibonacci(20), before_fibonacci);
    EXPECT_STREQ(relocated_greeting, "a string in .rodata, pointed to from RELRO");
    EXPECT_EQ(++g_written_counter, 42);
}

TEST(MappedCode, ReleaseTwice_IsHarmless)
{
    auto first = release_mapped_code();
    auto second = release_mapped_code();
    EXPECT_EQ(first.ranges, second.ranges);
    EXPECT_EQ(second.refused, 0u);
}

// The share capabilities across the jail's uid drop, in forked children (root needed; skipped
// otherwise): exactly CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID survive it, the bounding
// set holds nothing else, uid 0 stays out of reach, a thread created then inherits them and keeps
// them when its creator drops its own, and without keep-caps the drop clears everything.
#include "runtime/jail/capabilities.hpp"
#include "runtime/jail/identity.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <atomic>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <string>
#include <thread>

using namespace husk;
using namespace husk::testing_jail;

namespace {
// A line of /proc/thread-self/status, e.g. "CapBnd:\t000000000000001b" → 0x1b.
uint64_t status_mask(std::string const& field)
{
    std::ifstream status("/proc/thread-self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(field + ":"))
            return std::stoull(line.substr(field.size() + 1), nullptr, 16);
    }
    return ~0ull;
}

class ShareCapabilities : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: keeping capabilities across a uid drop needs root";
    }
};
} // namespace

TEST(ShareCapabilityMask, IsExactlyTheFourFileCapabilities)
{
    EXPECT_EQ(share_capability_mask(),
        (1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_FOWNER) | (1ull << CAP_FSETID));
    EXPECT_EQ(share_capability_mask() & (1ull << CAP_SETUID), 0u);
    EXPECT_EQ(share_capability_mask() & (1ull << CAP_SYS_ADMIN), 0u);
}

TEST_F(ShareCapabilities, KeptAcrossTheDrop_ExactlyTheFour)
{
    auto end = run_in_child([] {
        if (!keep_share_capabilities_across_drop() || !drop_identity({ 40123, 40123 }) || !raise_share_capabilities())
            return 1;
        auto sets = thread_capabilities();
        if (!sets || sets->effective != share_capability_mask() || sets->permitted != share_capability_mask()
            || sets->inheritable != 0)
            return 2;
        if (status_mask("CapBnd") != share_capability_mask() || status_mask("CapAmb") != 0)
            return 3;
        if (::setuid(0) == 0 || ::geteuid() != 40123)
            return 4;
        return 0;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}

TEST_F(ShareCapabilities, ThreadCreatedBeforeTheCreatorDrops_KeepsThem)
{
    auto end = run_in_child([] {
        if (!keep_share_capabilities_across_drop() || !drop_identity({ 40123, 40123 }) || !raise_share_capabilities())
            return 1;
        std::atomic<int> stage { 0 };
        std::atomic<uint64_t> event_effective { 0 };
        std::thread event([&] {
            while (stage.load() != 1) { }
            auto sets = thread_capabilities();
            event_effective = sets ? sets->effective : 0;
            stage = 2;
        });
        bool dropped = drop_thread_capabilities().has_value();
        stage = 1;
        while (stage.load() != 2) { }
        event.join();
        auto mine = thread_capabilities();
        std::atomic<uint64_t> later_effective { ~0ull };
        std::thread later([&] {
            auto sets = thread_capabilities();
            later_effective = sets ? sets->permitted | sets->effective : ~0ull;
        });
        later.join();
        if (!dropped || !mine || mine->effective != 0 || mine->permitted != 0)
            return 2;
        if (event_effective != share_capability_mask())
            return 3;
        if (later_effective != 0)
            return 4; // a thread created after the drop (a vCPU thread) has none
        return 0;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}

TEST_F(ShareCapabilities, WithoutKeepCaps_TheDropClearsEverything)
{
    auto end = run_in_child([] {
        if (!drop_identity({ 40123, 40123 }))
            return 1;
        auto sets = thread_capabilities();
        if (!sets || sets->effective != 0 || sets->permitted != 0)
            return 2;
        return raise_share_capabilities() ? 3 : 0; // nothing left to raise
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}

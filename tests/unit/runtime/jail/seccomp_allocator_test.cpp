// glibc's allocator under the filters. A thread of husk-vmm allocates from its own arena unless
// prepare_allocator_for_seccomp() ran first, and the first time such an arena shrinks glibc
// opens /proc/sys/vm/overcommit_memory: under a filter that killed husk-vmm with SIGSYS mid-run.
// These tests grow and shrink a filtered thread's heap, as husk-vmm's event and vCPU threads do
// under heavy vsock traffic, in a freshly executed copy of the test binary (gtest's "threadsafe"
// death-test style).
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

using namespace husk;
using namespace husk::testing_jail;

namespace {
// Blocks below glibc's mmap threshold (128 KiB), so they come from the thread's heap; 32 MiB in
// all fits a 64 MiB per-thread heap. Freed last-first, they leave one large free chunk on top,
// which glibc trims by shrinking the heap.
constexpr size_t block_size = 64 << 10;
constexpr size_t block_count = 512;

int grow_and_shrink_heap()
{
    std::vector<void*> blocks(block_count);
    for (auto& block : blocks) {
        block = std::malloc(block_size);
        if (block == nullptr)
            return 2;
        std::memset(block, 0x5a, block_size);
    }
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it)
        std::free(*it);
    return 0;
}

// Starts a thread (with an arena of its own unless the allocator was prepared) that installs
// `kind`'s filter, then churns its heap; returns the thread's result.
int churn_heap_on_new_filtered_thread(ThreadKind kind)
{
    int result = 1;
    std::thread worker([&] {
        if (!install_seccomp(kind)) {
            result = install_failed_code;
            return;
        }
        result = grow_and_shrink_heap();
    });
    worker.join();
    return result;
}
} // namespace

// Only kinds whose threads end with exit(): the main thread's list ends the process instead.
class SeccompAllocator : public ::testing::TestWithParam<ThreadKind> { };

TEST_P(SeccompAllocator, HeapGrowingAndShrinkingOnAFilteredThread_StaysWithinTheFilter)
{
    // In a freshly executed copy of the test binary, as husk-vmm starts: a forked child of this
    // process inherits the arenas that earlier tests' threads left free, and a new thread takes
    // one of those whatever M_ARENA_MAX says, so the result depended on which tests ran before.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto kind = GetParam();

    EXPECT_EXIT(
        {
            prepare_allocator_for_seccomp();
            std::_Exit(churn_heap_on_new_filtered_thread(kind));
        },
        ::testing::ExitedWithCode(0), "");
}

INSTANTIATE_TEST_SUITE_P(Kinds, SeccompAllocator, ::testing::Values(ThreadKind::Event, ThreadKind::Vcpu),
    [](auto const& info) { return std::string(thread_kind_name(info.param)); });

// The reason for prepare_allocator_for_seccomp(): without it the same churn makes glibc open a
// file, which the filter answers with SIGSYS. glibc looks at that file once per process, so this
// runs in a freshly executed copy of the test binary (gtest's "threadsafe" death-test style) in
// which no other test has shrunk a thread heap yet.
TEST(SeccompAllocatorDeathTest, WithoutPreparing_ShrinkingAThreadHeapOpensAFileAndIsKilled)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");

    EXPECT_EXIT(
        {
            churn_heap_on_new_filtered_thread(ThreadKind::Event);
            std::_Exit(0);
        },
        ::testing::KilledBySignal(SIGSYS), "");
}

// Loads a real kernel built by packaging/kernel when the environment names one:
// HUSK_TEST_VMLINUX (ELF vmlinux) or HUSK_TEST_BZIMAGE. Skipped otherwise, with the reason.
#include "runtime/base/fd.hpp"
#include "runtime/boot/kernel_loader.hpp"
#include "runtime/boot/layout.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t ram_size = 512ull << 20;
constexpr size_t max_kernel_size = 512u << 20;

std::vector<uint8_t> read_kernel(char const* path)
{
    auto text = read_file(path, max_kernel_size);
    EXPECT_TRUE(text.has_value()) << text.error().message;
    if (!text)
        return {};
    return std::vector<uint8_t>(text->begin(), text->end());
}

} // namespace

TEST(RealKernel, Vmlinux_LoadsWithEntryInsideTheImage)
{
    char const* path = std::getenv("HUSK_TEST_VMLINUX");
    if (!path || !*path)
        GTEST_SKIP() << "set HUSK_TEST_VMLINUX to a vmlinux built by packaging/kernel to run this test";
    auto image = read_kernel(path);
    ASSERT_FALSE(image.empty());
    auto memory = GuestMemory::create(layout::ram_regions(ram_size));
    ASSERT_TRUE(memory.has_value());

    auto kernel = load_kernel(*memory, image);

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::Elf);
    // e_entry of a vmlinux is the physical address of startup_64, at or above 1 MiB and inside
    // what was loaded.
    EXPECT_GE(kernel->entry, layout::high_memory_start);
    EXPECT_LT(kernel->entry, kernel->end);
}

TEST(RealKernel, BzImage_LoadsWith64BitEntry)
{
    char const* path = std::getenv("HUSK_TEST_BZIMAGE");
    if (!path || !*path)
        GTEST_SKIP() << "set HUSK_TEST_BZIMAGE to a bzImage built by packaging/kernel to run this test";
    auto image = read_kernel(path);
    ASSERT_FALSE(image.empty());
    auto memory = GuestMemory::create(layout::ram_regions(ram_size));
    ASSERT_TRUE(memory.has_value());

    auto kernel = load_kernel(*memory, image);

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::BzImage);
    EXPECT_EQ(kernel->entry, GuestAddress(0x100200));
    ASSERT_TRUE(kernel->setup_header.has_value());
    uint16_t version = kernel->setup_header->version;
    EXPECT_GE(version, 0x0206);
}

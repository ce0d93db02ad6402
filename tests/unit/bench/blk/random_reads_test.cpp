// husk-blk-iops's offsets and read loops against a temp file on the host (page cache, no KVM).
#include "bench/blk/random_reads.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <set>
#include <unistd.h>

using namespace husk::bench;

namespace {

// A temp file of `size` bytes, removed with the fixture.
class TempImage {
public:
    explicit TempImage(off_t size)
    {
        char path[] = "/tmp/husk-blk-iops-test.XXXXXX";
        m_fd = ::mkstemp(path);
        m_path = path;
        if (m_fd >= 0 && ::ftruncate(m_fd, size) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~TempImage()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        ::unlink(m_path.c_str());
    }
    int fd() const { return m_fd; }

private:
    int m_fd { -1 };
    std::string m_path;
};

} // namespace

TEST(RandomBlocks, Offsets_AreAlignedInRangeAndSpread)
{
    RandomBlocks blocks(1, 64);
    std::set<uint64_t> seen;

    for (int i = 0; i < 2000; ++i) {
        auto offset = blocks.next_offset();
        EXPECT_EQ(offset % read_size, 0u);
        EXPECT_LT(offset, 64 * read_size);
        seen.insert(offset);
    }

    EXPECT_EQ(seen.size(), 64u);
}

TEST(RandomBlocks, SameSeed_GivesSameOffsets)
{
    RandomBlocks first(42, 1000), second(42, 1000);

    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(first.next_offset(), second.next_offset());
}

TEST(RandomReads, CountAtQd1And16_DoesExactlyThatMany)
{
    TempImage image(1 << 20);
    ASSERT_GE(image.fd(), 0);

    for (unsigned depth : { 1u, 16u }) {
        auto figures = run_random_reads({ image.fd(), 256, depth, 100, 0, 3 });

        ASSERT_TRUE(figures) << figures.error().message;
        EXPECT_EQ(figures->ops, 100u);
        EXPECT_GE(figures->seconds, 0);
    }
}

TEST(RandomReads, BeyondEndOfFile_FailsAsShortRead)
{
    TempImage image(4096);
    ASSERT_GE(image.fd(), 0);

    // Claims more blocks than the file has: the reads past its end come back empty.
    auto figures = run_random_reads({ image.fd(), 1000, 4, 50, 0, 1 });

    ASSERT_FALSE(figures);
    EXPECT_NE(figures.error().message.find("short read"), std::string::npos) << figures.error().message;
}

TEST(RandomReads, ZeroBlocks_IsRefused)
{
    auto figures = run_random_reads({ -1, 0, 1, 1, 0, 1 });

    EXPECT_FALSE(figures);
}

TEST(DeviceSize, RegularFile_IsItsLength)
{
    TempImage image(12345);
    ASSERT_GE(image.fd(), 0);

    auto size = device_size_bytes(image.fd());

    ASSERT_TRUE(size) << size.error().message;
    EXPECT_EQ(*size, 12345u);
}

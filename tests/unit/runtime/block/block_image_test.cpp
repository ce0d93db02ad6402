// BlockImage: regular files only, read-only images opened O_RDONLY, size in whole sectors.
#include "runtime/block/block_image.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace husk;

namespace {

// A temporary file of `size` bytes, removed at the end of the test.
struct ScratchImage {
    explicit ScratchImage(uint64_t size)
    {
        char name[] = "/tmp/husk-block-image-XXXXXX";
        int fd = ::mkstemp(name);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
        ::close(fd);
        path = name;
    }
    ~ScratchImage() { ::unlink(path.c_str()); }
    std::string path;
};

} // namespace

TEST(BlockImage, BlockImage_RegularFile_OpensWithItsSize)
{
    ScratchImage file(1 << 20);
    auto image = BlockImage::create(file.path, BlockAccess::ReadWrite);
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(image->size_bytes(), 1u << 20);
    EXPECT_FALSE(image->is_read_only());
    EXPECT_EQ(::fcntl(image->fd(), F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_EQ(image->id().rfind("husk-", 0), 0u);
}

TEST(BlockImage, BlockImage_ReadOnly_IsOpenedReadOnly)
{
    ScratchImage file(4096);
    auto image = BlockImage::create(file.path, BlockAccess::ReadOnly);
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_TRUE(image->is_read_only());
    EXPECT_EQ(::fcntl(image->fd(), F_GETFL) & O_ACCMODE, O_RDONLY);
    char byte = 0;
    EXPECT_LT(::pwrite(image->fd(), &byte, 1, 0), 0);
}

TEST(BlockImage, BlockImage_PartialSector_IsRoundedDown)
{
    ScratchImage file(1000);
    auto image = BlockImage::create(file.path, BlockAccess::ReadWrite);
    ASSERT_TRUE(image);
    EXPECT_EQ(image->size_bytes(), 512u);
}

TEST(BlockImage, BlockImage_CharacterDevice_IsRefused)
{
    auto image = BlockImage::create("/dev/null", BlockAccess::ReadOnly);
    ASSERT_FALSE(image);
    EXPECT_NE(image.error().message.find("not a regular file"), std::string::npos);
}

TEST(BlockImage, BlockImage_Directory_IsRefused) { EXPECT_FALSE(BlockImage::create("/tmp", BlockAccess::ReadOnly)); }

TEST(BlockImage, BlockImage_Fifo_IsRefusedWithoutBlocking)
{
    std::string path = "/tmp/husk-block-fifo-" + std::to_string(::getpid());
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    auto image = BlockImage::create(path, BlockAccess::ReadOnly);
    ::unlink(path.c_str());
    EXPECT_FALSE(image);
}

TEST(BlockImage, BlockImage_MissingFile_NamesThePath)
{
    auto image = BlockImage::create("/nonexistent/disk.img", BlockAccess::ReadOnly);
    ASSERT_FALSE(image);
    EXPECT_NE(image.error().message.find("/nonexistent/disk.img"), std::string::npos);
}

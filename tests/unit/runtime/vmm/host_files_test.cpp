// Image mapping and serial output opening: contents, and each rejection.
#include "runtime/vmm/host_files.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace husk;

namespace {
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-files-XXXXXX").string();
        EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
        m_path = pattern;
    }
    ~TempDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    std::string file(char const* name, std::string const& contents) const
    {
        auto path = (m_path / name).string();
        std::ofstream(path, std::ios::binary) << contents;
        return path;
    }
    std::string path(char const* name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

void expect_error(Result<MappedImage> const& result, std::string const& fragment)
{
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
}
} // namespace

TEST(MappedImage, RegularFile_IsMappedWhole)
{
    TempDir dir;
    auto image = MappedImage::open(dir.file("k", "kernel bytes"), 1024, "kernel");
    ASSERT_TRUE(image) << image.error().message;
    EXPECT_EQ(std::string(image->bytes().begin(), image->bytes().end()), "kernel bytes");
}

TEST(MappedImage, MissingFile_NamesWhatAndPath)
{
    TempDir dir;
    auto path = dir.path("absent");
    expect_error(MappedImage::open(path, 1024, "initrd"), "initrd " + path);
}

TEST(MappedImage, Directory_IsRejected)
{
    TempDir dir;
    expect_error(MappedImage::open(dir.path(""), 1024, "kernel"), "not a regular file");
}

TEST(MappedImage, EmptyFile_IsRejected)
{
    TempDir dir;
    expect_error(MappedImage::open(dir.file("e", ""), 1024, "kernel"), "empty");
}

TEST(MappedImage, TooLarge_IsRejected)
{
    TempDir dir;
    expect_error(MappedImage::open(dir.file("big", std::string(100, 'x')), 99, "initrd"), "more than the 99");
}

TEST(OpenSerialOutput, None_IsInvalidFd)
{
    auto fd = open_serial_output({ SerialOutput::Kind::None, {} });
    ASSERT_TRUE(fd);
    EXPECT_FALSE(fd->is_valid());
}

TEST(OpenSerialOutput, File_IsCreatedAndTruncated)
{
    TempDir dir;
    auto path = dir.file("console.log", "old contents");
    auto fd = open_serial_output({ SerialOutput::Kind::File, path });
    ASSERT_TRUE(fd) << fd.error().message;
    ASSERT_TRUE(write_all(fd->get(), "new", 3));
    std::ifstream in(path);
    std::string contents((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(contents, "new");
}

TEST(OpenSerialOutput, UnwritableFile_IsRejected)
{
    auto fd = open_serial_output({ SerialOutput::Kind::File, "/nonexistent-husk-dir/console.log" });
    ASSERT_FALSE(fd);
    EXPECT_NE(fd.error().message.find("/nonexistent-husk-dir/console.log"), std::string::npos);
}

TEST(OpenSerialOutput, Stderr_IsASeparateDescriptor)
{
    auto fd = open_serial_output({ SerialOutput::Kind::Stderr, {} });
    ASSERT_TRUE(fd) << fd.error().message;
    EXPECT_TRUE(fd->is_valid());
    EXPECT_NE(fd->get(), STDERR_FILENO);
}

// GuestMemory::write_from_file: whole pages mapped copy-on-write from the file, partial head and
// tail pages copied, the same bytes as a plain write either way; the file never changes when the
// guest writes; a file too short, or no file, falls back or fails cleanly.
#include "runtime/base/fd.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace husk;

namespace {
constexpr uint64_t page = 4096;

struct TempFile {
    std::string path;
    Fd fd;
    explicit TempFile(std::vector<uint8_t> const& bytes)
    {
        char name[] = "/tmp/husk-guest-memory-file-XXXXXX";
        int raw = ::mkstemp(name);
        EXPECT_GE(raw, 0);
        path = name;
        fd = Fd(raw);
        EXPECT_TRUE(write_all(raw, bytes.data(), bytes.size()));
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

std::vector<uint8_t> pattern(size_t size)
{
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<uint8_t>(i * 7 + i / page);
    return bytes;
}

std::vector<uint8_t> read_back(GuestMemory const& memory, GuestAddress address, size_t size)
{
    std::vector<uint8_t> bytes(size);
    EXPECT_TRUE(memory.read(address, bytes));
    return bytes;
}

GuestMemory one_region()
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 1 << 20 } });
    EXPECT_TRUE(memory);
    return std::move(memory).value();
}
} // namespace

TEST(GuestMemoryFromFile, CongruentRange_ReadsBackTheFileBytesAroundPartialPages)
{
    auto bytes = pattern(40 * page);
    TempFile file(bytes);
    auto memory = one_region();
    ASSERT_TRUE(memory.fill(GuestAddress(0), 0xee, 1 << 20));
    // From file offset 0x1234 to guest 0x21234: a partial head page, whole pages, a partial tail.
    auto part = std::span(bytes).subspan(0x1234, 30 * page + 100);

    ASSERT_TRUE(memory.write_from_file(GuestAddress(0x21234), part, MappableFile { file.fd.get() }, 0x1234));

    EXPECT_EQ(read_back(memory, GuestAddress(0x21234), part.size()), std::vector<uint8_t>(part.begin(), part.end()));
    // Around it, guest memory is as it was.
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x21233)), 0xee);
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x21234 + part.size())), 0xee);
}

TEST(GuestMemoryFromFile, GuestWrite_CopiesThePageAndLeavesTheFileAlone)
{
    auto bytes = pattern(32 * page);
    TempFile file(bytes);
    auto memory = one_region();
    ASSERT_TRUE(memory.write_from_file(GuestAddress(0x40000), bytes, MappableFile { file.fd.get() }, 0));

    ASSERT_TRUE(memory.write_obj(GuestAddress(0x40000 + 5 * page), uint32_t { 0xdeadbeef }));

    EXPECT_EQ(*memory.read_obj<uint32_t>(GuestAddress(0x40000 + 5 * page)), 0xdeadbeefu);
    auto on_disk = read_file(file.path, 1 << 20);
    ASSERT_TRUE(on_disk);
    EXPECT_EQ(std::vector<uint8_t>(on_disk->begin(), on_disk->end()), bytes);
}

TEST(GuestMemoryFromFile, NotCongruent_IsCopied)
{
    auto bytes = pattern(32 * page);
    TempFile file(bytes);
    auto memory = one_region();

    ASSERT_TRUE(memory.write_from_file(GuestAddress(0x40010), bytes, MappableFile { file.fd.get() }, 0));

    EXPECT_EQ(read_back(memory, GuestAddress(0x40010), bytes.size()), bytes);
}

TEST(GuestMemoryFromFile, NoFile_IsCopied)
{
    auto bytes = pattern(32 * page);
    auto memory = one_region();

    ASSERT_TRUE(memory.write_from_file(GuestAddress(0x40000), bytes, MappableFile {}, 0));

    EXPECT_EQ(read_back(memory, GuestAddress(0x40000), bytes.size()), bytes);
}

TEST(GuestMemoryFromFile, FileShorterThanTheBytes_FailsWithoutMapping)
{
    auto bytes = pattern(32 * page);
    TempFile file(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 8 * page));
    auto memory = one_region();

    auto written = memory.write_from_file(GuestAddress(0x40000), bytes, MappableFile { file.fd.get() }, 0);

    ASSERT_FALSE(written);
    EXPECT_NE(written.error().message.find("end before"), std::string::npos) << written.error().message;
}

TEST(GuestMemoryFromFile, OutsideGuestMemory_Fails)
{
    auto bytes = pattern(32 * page);
    TempFile file(bytes);
    auto memory = one_region();

    EXPECT_FALSE(memory.write_from_file(GuestAddress((1 << 20) - page), bytes, MappableFile { file.fd.get() }, 0));
}

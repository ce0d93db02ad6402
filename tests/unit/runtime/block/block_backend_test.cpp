// The image backends on a real temporary file: io_uring on an EventLoop and the synchronous
// fallback, through the same cases: vectored write and read back, flush, discard, write-zeroes,
// read-only refusal, the write-zeroes fallback (forced, and on a tmpfs without ZERO_RANGE), and
// the factory's choice.
#include "runtime/block/block_backend_factory.hpp"
#include "runtime/block/sync_block_backend.hpp"
#include "runtime/block/uring_block_backend.hpp"
#include "tests/unit/runtime/io/event_loop_test_support.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <map>
#include <numeric>
#include <unistd.h>
#include <vector>

using namespace husk;
using husk::testing_io::run_until;

namespace {

constexpr uint64_t image_size = 4 << 20; // room for a write-zeroes fallback of several chunks

struct TempImage {
    explicit TempImage(std::string directory = "/tmp")
    {
        std::string name = directory + "/husk-block-backend-XXXXXX";
        int fd = ::mkstemp(name.data());
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, image_size), 0);
        ::close(fd);
        path = name;
    }
    ~TempImage() { ::unlink(path.c_str()); }
    std::vector<uint8_t> contents() const
    {
        std::vector<uint8_t> bytes(image_size);
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        EXPECT_EQ(::pread(fd.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
        return bytes;
    }
    std::string path;
};

class Recorder final : public BlockBackendEvents {
public:
    void on_block_complete(uint64_t tag, BlockResult result) override { results[tag] = result; }
    std::map<uint64_t, BlockResult> results;
};

EventLoopConfig block_loop_config()
{
    EventLoopConfig config;
    config.opcodes = block_backend_opcodes();
    config.fixed_file_count = 4;
    config.queue_depth = 32;
    return config;
}

enum class Kind { IoUring, Synchronous };

class BlockBackendTest : public ::testing::TestWithParam<Kind> {
protected:
    void SetUp() override
    {
        if (GetParam() == Kind::IoUring) {
            auto loop = EventLoop::create(block_loop_config());
            if (!loop && husk::testing_io::io_uring_refused(loop.error()))
                GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << loop.error().message;
            ASSERT_TRUE(loop) << loop.error().message;
            m_loop = std::make_unique<EventLoop>(std::move(loop).value());
        }
        open(BlockAccess::ReadWrite);
    }
    void open(BlockAccess access, ZeroFill zero_fill = ZeroFill::FallocateFirst, TempImage const* file = nullptr)
    {
        m_backend.reset();
        auto image = BlockImage::create(file ? file->path : m_file.path, access);
        ASSERT_TRUE(image) << image.error().message;
        if (m_loop) {
            auto backend = UringBlockBackend::create(*m_loop, std::move(*image));
            ASSERT_TRUE(backend) << backend.error().message;
            (*backend)->set_zero_fill(zero_fill);
            m_backend = std::move(backend).value();
        } else {
            auto backend = std::make_unique<SyncBlockBackend>(std::move(*image));
            backend->set_zero_fill(zero_fill);
            m_backend = std::move(backend);
        }
        m_backend->set_events(&m_recorder);
    }
    // Submits and waits for the result, whichever way it comes.
    BlockResult run(BlockIo const& io)
    {
        uint64_t tag = m_next_tag++;
        auto submitted = m_backend->submit(tag, io);
        EXPECT_TRUE(submitted) << submitted.error().message;
        if (!submitted)
            return -EINVAL;
        if (submitted->has_value())
            return **submitted; // the synchronous backend, or a refusal known at once
        EXPECT_TRUE(m_loop);
        EXPECT_TRUE(run_until(*m_loop, [&] { return m_recorder.results.contains(tag); }));
        return m_recorder.results[tag];
    }

    TempImage m_file;
    std::unique_ptr<EventLoop> m_loop;
    std::unique_ptr<BlockBackend> m_backend;
    Recorder m_recorder;
    uint64_t m_next_tag { 1 };
};

std::vector<uint8_t> pattern(size_t size, uint8_t seed)
{
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<uint8_t>(seed + i * 7);
    return bytes;
}

} // namespace

TEST_P(BlockBackendTest, BlockBackend_VectoredWriteThenRead_RoundTrips)
{
    auto first = pattern(4096, 1);
    auto second = pattern(8192, 99);
    iovec out[] = { { first.data(), first.size() }, { second.data(), second.size() } };
    EXPECT_EQ(run({ BlockOperation::Write, 65536, 12288, out }), 12288);

    std::vector<uint8_t> a(8192), b(4096);
    iovec in[] = { { a.data(), a.size() }, { b.data(), b.size() } };
    EXPECT_EQ(run({ BlockOperation::Read, 65536, 12288, in }), 12288);
    EXPECT_EQ(std::vector<uint8_t>(a.begin(), a.begin() + 4096), first);
    EXPECT_EQ(
        std::vector<uint8_t>(a.begin() + 4096, a.end()), std::vector<uint8_t>(second.begin(), second.begin() + 4096));
    EXPECT_EQ(b, std::vector<uint8_t>(second.begin() + 4096, second.end()));
    auto on_disk = m_file.contents();
    EXPECT_EQ(std::vector<uint8_t>(on_disk.begin() + 65536, on_disk.begin() + 65536 + 4096), first);
}

TEST_P(BlockBackendTest, BlockBackend_Flush_Succeeds) { EXPECT_EQ(run({ BlockOperation::Flush, 0, 0, {} }), 0); }

TEST_P(BlockBackendTest, BlockBackend_DiscardAndWriteZeroes_ReadBackAsZeroes)
{
    auto data = pattern(65536, 5);
    iovec out[] = { { data.data(), data.size() } };
    ASSERT_EQ(run({ BlockOperation::Write, 0, data.size(), out }), 65536);

    EXPECT_EQ(run({ BlockOperation::Discard, 0, 8192, {} }), 0);
    EXPECT_EQ(run({ BlockOperation::WriteZeroes, 16384, 4096, {}, false }), 0);
    EXPECT_EQ(run({ BlockOperation::WriteZeroes, 32768, 4096, {}, true }), 0);

    auto on_disk = m_file.contents();
    auto zero = [&](size_t from, size_t length) {
        return std::all_of(on_disk.begin() + from, on_disk.begin() + from + length, [](uint8_t b) { return b == 0; });
    };
    EXPECT_TRUE(zero(0, 8192));
    EXPECT_TRUE(zero(16384, 4096));
    EXPECT_TRUE(zero(32768, 4096));
    EXPECT_EQ(on_disk[8192], data[8192]); // untouched between the ranges
    EXPECT_EQ(on_disk[20480], data[20480]);
}

// The forced fallback: one range of several chunks (the last partial, not 4 KiB-aligned), one
// unmapping range of one sector; every byte is checked, zeroes inside, the pattern elsewhere.
TEST_P(BlockBackendTest, BlockBackend_WriteZeroesByWrites_ZeroesRangesAndNothingElse)
{
    open(BlockAccess::ReadWrite, ZeroFill::WritesOnly);
    auto data = pattern(image_size, 11);
    iovec out[] = { { data.data(), data.size() } };
    ASSERT_EQ(run({ BlockOperation::Write, 0, data.size(), out }), static_cast<BlockResult>(image_size));
    uint64_t const first_at = 4096 + 512, first_length = 2 * zero_write_max_bytes + 1536;
    uint64_t const second_at = 3 * zero_write_max_bytes, second_length = 512;

    EXPECT_EQ(run({ BlockOperation::WriteZeroes, first_at, first_length, {}, false }), 0);
    EXPECT_EQ(run({ BlockOperation::WriteZeroes, second_at, second_length, {}, true }), 0);
    EXPECT_EQ(run({ BlockOperation::WriteZeroes, 0, 0, {}, false }), 0); // empty range: nothing to do

    auto expected = data;
    std::fill_n(expected.begin() + first_at, first_length, 0);
    std::fill_n(expected.begin() + second_at, second_length, 0);
    EXPECT_TRUE(m_file.contents() == expected);
}

TEST_P(BlockBackendTest, BlockBackend_WriteZeroesOnTmpfs_FallsBackToWrites)
{
    // tmpfs has punch-hole but no FALLOC_FL_ZERO_RANGE: the plain write-zeroes gets EOPNOTSUPP.
    if (::access("/dev/shm", W_OK) != 0)
        GTEST_SKIP() << "SKIPPING: no writable /dev/shm (tmpfs) here";
    TempImage shm_file("/dev/shm");
    open(BlockAccess::ReadWrite, ZeroFill::FallocateFirst, &shm_file);
    auto data = pattern(image_size, 23);
    iovec out[] = { { data.data(), data.size() } };
    ASSERT_EQ(run({ BlockOperation::Write, 0, data.size(), out }), static_cast<BlockResult>(image_size));

    EXPECT_EQ(run({ BlockOperation::WriteZeroes, 8192, zero_write_max_bytes + 4096, {}, false }), 0);

    auto expected = data;
    std::fill_n(expected.begin() + 8192, zero_write_max_bytes + 4096, 0);
    EXPECT_TRUE(shm_file.contents() == expected);
    m_backend.reset(); // closes the image before shm_file unlinks it
}

TEST_P(BlockBackendTest, BlockBackend_ReadOnlyImage_RefusesWritesAndStillReads)
{
    open(BlockAccess::ReadOnly);
    auto data = pattern(512, 3);
    iovec out[] = { { data.data(), data.size() } };
    EXPECT_LT(run({ BlockOperation::Write, 0, 512, out }), 0);
    EXPECT_LT(run({ BlockOperation::Discard, 0, 4096, {} }), 0);
    open(BlockAccess::ReadOnly, ZeroFill::WritesOnly);
    EXPECT_LT(run({ BlockOperation::WriteZeroes, 0, 4096, {} }), 0);
    std::vector<uint8_t> back(512, 0xff);
    iovec in[] = { { back.data(), back.size() } };
    EXPECT_EQ(run({ BlockOperation::Read, 0, 512, in }), 512);
    EXPECT_EQ(back, std::vector<uint8_t>(512, 0));
}

TEST_P(BlockBackendTest, BlockBackend_ReadPastEndOfFile_ReportsShortCount)
{
    std::vector<uint8_t> data(8192);
    iovec in[] = { { data.data(), data.size() } };
    EXPECT_EQ(run({ BlockOperation::Read, image_size - 4096, 8192, in }), 4096);
}

INSTANTIATE_TEST_SUITE_P(Backends, BlockBackendTest, ::testing::Values(Kind::IoUring, Kind::Synchronous),
    [](auto const& info) { return info.param == Kind::IoUring ? std::string("IoUring") : std::string("Synchronous"); });

TEST(BlockBackendFactory, BlockBackendFactory_NoLoop_FallsBackToSynchronous)
{
    TempImage file;
    auto image = BlockImage::create(file.path, BlockAccess::ReadWrite);
    ASSERT_TRUE(image);
    auto choice = create_block_backend(std::move(*image), nullptr, "vda", "io_uring disabled (test)");
    ASSERT_TRUE(choice.backend);
    EXPECT_EQ(choice.kind, BlockBackendKind::Synchronous);
    EXPECT_EQ(choice.backend->size_bytes(), image_size);
}

TEST(BlockBackendFactory, BlockBackendFactory_WithLoop_UsesIoUring)
{
    auto loop = EventLoop::create(block_loop_config());
    if (!loop && husk::testing_io::io_uring_refused(loop.error()))
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << loop.error().message;
    ASSERT_TRUE(loop);
    TempImage file;
    auto image = BlockImage::create(file.path, BlockAccess::ReadOnly);
    ASSERT_TRUE(image);
    auto choice = create_block_backend(std::move(*image), &*loop, "vda");
    ASSERT_TRUE(choice.backend);
    EXPECT_EQ(choice.kind, BlockBackendKind::IoUring);
    EXPECT_TRUE(choice.backend->is_read_only());
}

TEST(BlockBackendFactory, BlockBackendFactory_LoopFileTableFull_FallsBackToSynchronous)
{
    auto config = block_loop_config();
    config.fixed_file_count = 1;
    auto loop = EventLoop::create(config);
    if (!loop && husk::testing_io::io_uring_refused(loop.error()))
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << loop.error().message;
    ASSERT_TRUE(loop);
    TempImage first_file, second_file;
    auto first_image = BlockImage::create(first_file.path, BlockAccess::ReadOnly);
    auto second_image = BlockImage::create(second_file.path, BlockAccess::ReadOnly);
    ASSERT_TRUE(first_image && second_image);
    auto first = create_block_backend(std::move(first_image).value(), &*loop, "vda");
    auto second = create_block_backend(std::move(second_image).value(), &*loop, "vdb");
    EXPECT_EQ(first.kind, BlockBackendKind::IoUring);
    EXPECT_EQ(second.kind, BlockBackendKind::Synchronous);
    ASSERT_TRUE(second.backend);
}

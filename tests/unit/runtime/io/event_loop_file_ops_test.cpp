// EventLoop fsync and fallocate on a registered temporary file, and the allow-list refusing them
// when the config does not list them.
#include "tests/unit/runtime/io/event_loop_test_support.hpp"

#include <cstdlib>
#include <linux/falloc.h>
#include <optional>
#include <sys/stat.h>

using namespace husk;
using husk::testing_io::run_until;

namespace {

struct TempFile {
    TempFile()
    {
        char name[] = "/tmp/husk-loop-file-XXXXXX";
        fd = Fd(::mkstemp(name));
        path = name;
    }
    ~TempFile() { ::unlink(path.c_str()); }
    Fd fd;
    std::string path;
};

EventLoopConfig file_ops_config()
{
    EventLoopConfig config;
    config.opcodes = { IoOpcode::Fsync, IoOpcode::Fallocate };
    config.fixed_file_count = 2;
    config.queue_depth = 8;
    return config;
}

} // namespace

TEST(EventLoopFileOps, EventLoop_FsyncData_CompletesWithZero)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, file_ops_config());
    TempFile file;
    auto fixed = loop.register_file(file.fd.get());
    ASSERT_TRUE(fixed);
    std::optional<int> result;
    ASSERT_TRUE(loop.fsync(*fixed, EventLoop::Sync::Data, [&](int r) { result = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return result.has_value(); }));
    EXPECT_EQ(*result, 0);
}

TEST(EventLoopFileOps, EventLoop_Fallocate_AllocatesAndPunches)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, file_ops_config());
    TempFile file;
    auto fixed = loop.register_file(file.fd.get());
    ASSERT_TRUE(fixed);
    std::optional<int> result;
    ASSERT_TRUE(loop.fallocate(*fixed, 0, 0, 65536, [&](int r) { result = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return result.has_value(); }));
    ASSERT_EQ(*result, 0);
    struct stat info { };
    ASSERT_EQ(::fstat(file.fd.get(), &info), 0);
    EXPECT_EQ(info.st_size, 65536);

    result.reset();
    ASSERT_TRUE(
        loop.fallocate(*fixed, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 65536, [&](int r) { result = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return result.has_value(); }));
    EXPECT_EQ(*result, 0);
    ASSERT_EQ(::fstat(file.fd.get(), &info), 0);
    EXPECT_EQ(info.st_size, 65536); // KEEP_SIZE
}

TEST(EventLoopFileOps, EventLoop_FallocateRangeOverflowingOffT_IsRefused)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, file_ops_config());
    TempFile file;
    auto fixed = loop.register_file(file.fd.get());
    ASSERT_TRUE(fixed);
    EXPECT_FALSE(loop.fallocate(*fixed, 0, ~uint64_t { 0 } - 10, 100, [](int) {}));
}

TEST(EventLoopFileOps, EventLoop_FsyncNotInConfig_IsRefused)
{
    EventLoopConfig config;
    config.opcodes = { IoOpcode::Read };
    HUSK_CREATE_LOOP_OR_SKIP(loop, config);
    TempFile file;
    auto fixed = loop.register_file(file.fd.get());
    ASSERT_TRUE(fixed);
    EXPECT_FALSE(loop.fsync(*fixed, EventLoop::Sync::Data, [](int) {}));
    EXPECT_FALSE(loop.fallocate(*fixed, 0, 0, 4096, [](int) {}));
}

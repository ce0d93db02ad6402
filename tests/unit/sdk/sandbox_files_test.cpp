// Sandbox file operations against the real agent: round trips, large files, errors as Guest.
#include "tests/unit/sdk/sandbox_test_support.hpp"

#include <algorithm>
#include <cstring>

namespace husk::sdk_testing {
namespace {

    using SandboxFiles = RealAgentSandbox;

    TEST_F(SandboxFiles, WriteThenRead_RoundTripsBytes)
    {
        std::string data(1'500'000, '\0');
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<char>(i * 7);
        auto path = scratch + "/blob";

        ASSERT_TRUE(sandbox->write_file(path, data, 0600));
        auto back = sandbox->read_file(path);

        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(*back, data);
    }

    TEST_F(SandboxFiles, EmptyFile_RoundTrips)
    {
        auto path = scratch + "/empty";

        ASSERT_TRUE(sandbox->write_file(path, std::string_view {}));
        auto back = sandbox->read_file(path);

        ASSERT_TRUE(back);
        EXPECT_EQ(*back, "");
    }

    TEST_F(SandboxFiles, Stat_ReportsTypeSizeAndMode)
    {
        auto path = scratch + "/f";
        ASSERT_TRUE(sandbox->write_file(path, "12345", 0640));

        auto file = sandbox->stat(path);
        auto directory = sandbox->stat(scratch);

        ASSERT_TRUE(file);
        EXPECT_EQ(file->type, FileType::Regular);
        EXPECT_EQ(file->size, 5u);
        EXPECT_EQ(file->mode, 0640u);
        ASSERT_TRUE(directory);
        EXPECT_EQ(directory->type, FileType::Directory);
    }

    TEST_F(SandboxFiles, MkdirAndRemove_WorkRecursively)
    {
        auto nested = scratch + "/a/b/c";

        ASSERT_TRUE(sandbox->mkdir(nested, Parents::Create));
        ASSERT_TRUE(sandbox->write_file(nested + "/x", "x"));
        auto plain_remove = sandbox->remove(scratch + "/a");
        ASSERT_TRUE(sandbox->remove(scratch + "/a", Recursive::Yes));
        auto gone = sandbox->stat(scratch + "/a");

        ASSERT_FALSE(plain_remove);
        EXPECT_EQ(plain_remove.error().kind, ErrorKind::Guest);
        ASSERT_FALSE(gone);
        EXPECT_EQ(gone.error().kind, ErrorKind::Guest);
    }

    TEST_F(SandboxFiles, MissingFile_IsAGuestErrorNamingThePath)
    {
        auto read = sandbox->read_file(scratch + "/nope");

        ASSERT_FALSE(read);
        EXPECT_EQ(read.error().kind, ErrorKind::Guest);
        EXPECT_NE(read.error().message.find("/nope"), std::string::npos);
    }

    TEST_F(SandboxFiles, ReadBeyondMaxSize_IsRefused)
    {
        auto path = scratch + "/big";
        ASSERT_TRUE(sandbox->write_file(path, std::string(10'000, 'z')));

        auto read = sandbox->read_file(path, 100);

        ASSERT_FALSE(read);
        EXPECT_NE(read.error().message.find("limit"), std::string::npos);
    }

    TEST_F(SandboxFiles, RelativePath_IsBadConfig)
    {
        EXPECT_EQ(sandbox->write_file("relative", "x").error().kind, ErrorKind::BadConfig);
        EXPECT_EQ(sandbox->stat("").error().kind, ErrorKind::BadConfig);
        EXPECT_EQ(sandbox->mkdir("a/b").error().kind, ErrorKind::BadConfig);
    }

} // namespace
} // namespace husk::sdk_testing

namespace husk::sdk_testing {
namespace {

    using SandboxStreamedWrite = RealAgentSandbox;

    // Hands out `data` in pieces of `piece` bytes (at most the buffer's size).
    Sandbox::FileSource source_of(std::string const& data, size_t piece, size_t fail_after = SIZE_MAX)
    {
        auto position = std::make_shared<size_t>(0);
        auto calls = std::make_shared<size_t>(0);
        return [=, &data](std::span<uint8_t> buffer) -> Result<size_t> {
            if ((*calls)++ >= fail_after)
                return fail("the source broke");
            size_t size = std::min({ piece, buffer.size(), data.size() - *position });
            std::memcpy(buffer.data(), data.data() + *position, size);
            *position += size;
            return size;
        };
    }

    TEST_F(SandboxStreamedWrite, ManyOddSizedPieces_ArriveWhole)
    {
        std::string data(2'000'017, '\0');
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<char>(i * 13 + 5);
        auto path = scratch + "/streamed";

        auto wrote = sandbox->write_file(path, source_of(data, 300'001), 0600);
        auto back = sandbox->read_file(path);

        ASSERT_TRUE(wrote) << wrote.error().message;
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(*back, data);
        EXPECT_EQ(sandbox->stat(path)->mode, 0600u);
    }

    TEST_F(SandboxStreamedWrite, EmptySource_MakesAnEmptyFile)
    {
        auto path = scratch + "/empty-streamed";
        std::string const empty;

        ASSERT_TRUE(sandbox->write_file(path, source_of(empty, 10)));

        EXPECT_EQ(*sandbox->read_file(path), "");
    }

    TEST_F(SandboxStreamedWrite, SourceFailingMidway_FailsAndLeavesNoFile)
    {
        std::string data(500'000, 'x');
        auto path = scratch + "/broken";

        auto wrote = sandbox->write_file(path, source_of(data, 100'000, 2));

        ASSERT_FALSE(wrote);
        EXPECT_NE(wrote.error().message.find("the source broke"), std::string::npos) << wrote.error().message;
        EXPECT_FALSE(std::filesystem::exists(path));
        EXPECT_TRUE(sandbox->ping()) << "the sandbox stays usable";
    }

    TEST_F(SandboxStreamedWrite, SourceClaimingMoreThanItsBuffer_IsRefused)
    {
        auto path = scratch + "/liar";

        auto wrote = sandbox->write_file(path, [](std::span<uint8_t> buffer) -> Result<size_t> { return buffer.size() + 1; });

        ASSERT_FALSE(wrote);
        EXPECT_EQ(wrote.error().kind, ErrorKind::BadConfig);
        EXPECT_FALSE(std::filesystem::exists(path));
    }

} // namespace
} // namespace husk::sdk_testing

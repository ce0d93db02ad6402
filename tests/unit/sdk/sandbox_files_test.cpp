// Sandbox file operations against the real agent: round trips, large files, errors as Guest.
#include "tests/unit/sdk/sandbox_test_support.hpp"

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

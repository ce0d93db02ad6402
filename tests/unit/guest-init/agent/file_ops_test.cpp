// Tests for guest-init/agent/file_ops: the errno mapping and the direct Stat/Mkdir/Remove calls.
#include "guest-init/agent/file_ops.hpp"

#include "tests/unit/guest-init/agent/agent_test_client.hpp"

#include <fstream>

namespace husk::agent {
namespace {

    using namespace protocol;

    TEST(ErrorCodeFromErrno, CommonErrors_MapToTheirCodes)
    {
        EXPECT_EQ(error_code_from_errno(ENOENT), ErrorCode::NotFound);
        EXPECT_EQ(error_code_from_errno(EACCES), ErrorCode::PermissionDenied);
        EXPECT_EQ(error_code_from_errno(EPERM), ErrorCode::PermissionDenied);
        EXPECT_EQ(error_code_from_errno(EEXIST), ErrorCode::AlreadyExists);
        EXPECT_EQ(error_code_from_errno(ENOTDIR), ErrorCode::NotADirectory);
        EXPECT_EQ(error_code_from_errno(EISDIR), ErrorCode::IsADirectory);
        EXPECT_EQ(error_code_from_errno(ENOTEMPTY), ErrorCode::NotEmpty);
        EXPECT_EQ(error_code_from_errno(ENOSPC), ErrorCode::NoSpace);
        EXPECT_EQ(error_code_from_errno(ENAMETOOLONG), ErrorCode::InvalidArgument);
        EXPECT_EQ(error_code_from_errno(EIO), ErrorCode::Io);
    }

    TEST(ErrorReplyFromErrno, NamesTheOperationAndPath)
    {
        auto reply = error_reply_from_errno("remove", "/x", ENOENT);

        EXPECT_EQ(reply.code, ErrorCode::NotFound);
        EXPECT_EQ(reply.message, "remove /x: No such file or directory");
    }

    TEST(MakeDirectory, ParentThroughAFile_IsNotADirectory)
    {
        testing::TempDir temp;
        std::ofstream(temp / "file") << "x";

        auto result = make_directory(Mkdir { temp / "file/sub", 0755, true });

        ASSERT_TRUE(std::holds_alternative<ErrorReply>(result));
        EXPECT_EQ(std::get<ErrorReply>(result).code, ErrorCode::NotADirectory);
    }

    TEST(RemovePath, SymlinkToDirectory_RemovesOnlyTheLink)
    {
        testing::TempDir temp;
        std::filesystem::create_directory(temp / "target");
        std::ofstream(temp / "target/keep") << "x";
        std::filesystem::create_directory_symlink(temp / "target", temp / "link");

        auto result = remove_path(Remove { temp / "link", true });

        EXPECT_TRUE(std::holds_alternative<Ack>(result));
        EXPECT_FALSE(std::filesystem::is_symlink(temp / "link"));
        EXPECT_TRUE(std::filesystem::exists(temp / "target/keep"));
    }

    TEST(StatPath, DanglingSymlink_IsReportedAsSymlink)
    {
        testing::TempDir temp;
        std::filesystem::create_symlink(temp / "nowhere", temp / "dangling");

        auto result = stat_path(Stat { temp / "dangling" });

        ASSERT_TRUE(std::holds_alternative<StatReply>(result));
        EXPECT_EQ(std::get<StatReply>(result).kind, FileKind::Symlink);
    }

} // namespace
} // namespace husk::agent

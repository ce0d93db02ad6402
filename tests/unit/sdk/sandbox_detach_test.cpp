// Sandbox::detach and Sandbox::connect without a VM: what cannot be detached, and every way a
// directory handed to connect() can be wrong or tampered with. The round trip with a real VM is
// in tests/lab/sdk_detach_lab_test.cpp.
#include "tests/unit/testing/scratch_dir.hpp"
#include "husk/sandbox.hpp"
#include "sdk/src/vmm_child.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "tests/unit/sdk/fake_agent.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk {
namespace {

    using namespace std::chrono_literals;

    class SandboxConnect : public ::testing::Test {
    protected:
        void write_pid(std::string const& text) { std::ofstream(dir + "/vmm.pid") << text; }
        Error connect_error(std::string const& path)
        {
            SandboxOptions options;
            options.boot_timeout = 300ms;
            auto connected = Sandbox::connect(path, options);
            EXPECT_FALSE(connected);
            return connected ? Error {} : connected.error();
        }

        test_support::ScratchDir scratch { "husk-detach-test" };
        std::string const dir { scratch.path() };
    };

    TEST_F(SandboxConnect, RelativeOrMissingDirectory_IsBadConfig)
    {
        EXPECT_EQ(connect_error("relative/dir").kind, ErrorKind::BadConfig);
        auto missing = connect_error(dir + "/missing");
        EXPECT_EQ(missing.kind, ErrorKind::BadConfig);
        EXPECT_NE(missing.message.find("not a detached sandbox"), std::string::npos) << missing.message;
    }

    TEST_F(SandboxConnect, SymlinkToTheDirectory_IsRefused)
    {
        write_pid(std::to_string(getpid()));
        auto link = dir + "-link";
        ASSERT_EQ(symlink(dir.c_str(), link.c_str()), 0);
        auto error = connect_error(link);
        unlink(link.c_str());
        EXPECT_EQ(error.kind, ErrorKind::BadConfig);
        EXPECT_NE(error.message.find("not a directory"), std::string::npos) << error.message;
    }

    TEST_F(SandboxConnect, DirectoryOthersCanEnter_IsRefused)
    {
        write_pid(std::to_string(getpid()));
        chmod(dir.c_str(), 0755);
        auto error = connect_error(dir);
        EXPECT_EQ(error.kind, ErrorKind::BadConfig);
        EXPECT_NE(error.message.find("private"), std::string::npos) << error.message;
    }

    TEST_F(SandboxConnect, NoPidFile_SaysItWasNotDetached)
    {
        auto error = connect_error(dir);
        EXPECT_EQ(error.kind, ErrorKind::BadConfig);
        EXPECT_NE(error.message.find("no pid file"), std::string::npos) << error.message;
    }

    TEST_F(SandboxConnect, MalformedPidFiles_AreRefusedAndLeftInPlace)
    {
        std::vector<std::string> const malformed { "", "\n", "abc", "-5", "0", "12x", "99999999999999999", " 12",
            "1234567890123456789", std::string("12\0", 3) };
        for (auto const& text : malformed) {
            write_pid(text);
            auto error = connect_error(dir);
            EXPECT_EQ(error.kind, ErrorKind::BadConfig) << "pid file '" << text << "'";
            EXPECT_TRUE(std::filesystem::exists(dir + "/vmm.pid")) << "pid file '" << text << "'";
        }
    }

    TEST_F(SandboxConnect, PidOfAProcessNotServingTheSocket_IsRefusedAndNothingIsTouched)
    {
        write_pid(std::to_string(getpid()) + "\n");
        auto error = connect_error(dir);
        EXPECT_EQ(error.kind, ErrorKind::BadConfig);
        EXPECT_NE(error.message.find("is not its husk-vmm"), std::string::npos) << error.message;
        EXPECT_TRUE(std::filesystem::exists(dir + "/vmm.pid"));
    }

    TEST_F(SandboxConnect, PidOfAnEndedProcess_IsVmDiedAndTheDirectoryGoes)
    {
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        ASSERT_GT(child, 0);
        waitpid(child, nullptr, 0);
        write_pid(std::to_string(child));
        auto error = connect_error(dir);
        EXPECT_EQ(error.kind, ErrorKind::VmDied) << error.message;
        EXPECT_FALSE(std::filesystem::exists(dir));
    }

    TEST(SandboxDetach, SandboxWithoutItsOwnVmm_CannotBeDetached)
    {
        sdk_testing::SocketPair pair;
        sdk_testing::FakeAgent agent(std::move(pair.agent), sdk_testing::greet_reply);
        auto attached = detail::SandboxAccess::attach(std::move(pair.host), {});
        ASSERT_TRUE(attached) << attached.error().message;
        auto detached = attached->detach();
        ASSERT_FALSE(detached);
        EXPECT_EQ(detached.error().kind, ErrorKind::BadConfig);
        EXPECT_TRUE(attached->ping()) << "a refused detach leaves the sandbox as it was";
    }

    TEST(VmmChildAdopt, RunningProcess_IsWatchedButNotOurs)
    {
        pid_t child = fork();
        if (child == 0) {
            pause();
            _exit(0);
        }
        ASSERT_GT(child, 0);
        {
            auto adopted = detail::VmmChild::adopt(child);
            ASSERT_TRUE(adopted) << adopted.error().message;
            EXPECT_FALSE(adopted->peek_exit());
            kill(child, SIGKILL);
            EXPECT_TRUE(adopted->wait_exit(2s));
            auto exit = adopted->peek_exit();
            ASSERT_TRUE(exit);
            EXPECT_FALSE(exit->known);
            EXPECT_EQ(detail::describe_vmm_exit(*exit), "has exited");
        } // an adopted process is never reaped by VmmChild
        siginfo_t info {};
        EXPECT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG), 0);
        EXPECT_EQ(info.si_pid, child);
    }

    TEST(VmmChildAdopt, NoSuchProcess_IsVmDied)
    {
        auto adopted = detail::VmmChild::adopt(0x3ffffff0);
        ASSERT_FALSE(adopted);
        EXPECT_EQ(adopted.error().kind, ErrorKind::VmDied);
    }

} // namespace
} // namespace husk

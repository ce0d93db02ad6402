// The event thread's file-sharing seccomp rules: opening is pinned to the share's descriptors,
// the budget holds, and a filtered child can serve every 9P operation Linux sends while an open
// of any other path kills it.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/seccomp.hpp"
#include "runtime/jail/seccomp_filter.hpp"
#include "runtime/share/share_server.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"
#include "tests/unit/runtime/share/p9_test_client.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>

using namespace husk;
using namespace husk::testing_jail;
using husk::testing::P9TestClient;
namespace msg = husk::p9::message;

TEST(FileSharingRules, Opening_IsPinnedToTheGivenDescriptors)
{
    std::vector<int> roots { 7, 9 };
    std::vector<int> procs { 8 };
    auto rules = file_sharing_rules(roots, procs);
    for (auto const& rule : rules) {
        if (rule.name == "openat2") {
            EXPECT_EQ(rule.allowed_when.size(), 2u);
        }
        if (rule.name == "openat") {
            ASSERT_EQ(rule.allowed_when.size(), 1u);
            EXPECT_EQ(rule.allowed_when[0].value, 8u);
        }
        EXPECT_GE(rule.reason.size(), 10u);
    }
    EXPECT_LE(distinct_syscall_count(rules), file_sharing_syscall_budget);
    EXPECT_TRUE(SeccompFilter::create(rules));
}

class FileSharingFilter : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = ::testing::TempDir() + "husk-share-seccomp-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory = pattern;
        std::ofstream(directory + "/in") << "input";
    }
    void TearDown() override { std::filesystem::remove_all(directory); }

    // In a child: open the share, install the event filter with the sharing rules, run `action`.
    ChildEnd run(std::function<int(ShareServer&)> const& action, ShareOwnership ownership = ShareOwnership::ServerUser)
    {
        return run_in_child([&]() -> int {
            auto root = ShareRoot::open(directory, ShareAccess::ReadWrite, { ::geteuid(), ::getegid() }, ownership);
            if (!root)
                return 90;
            FileSharingDescriptors shares { { root->root_fd() }, { root->proc_fds() },
                ownership == ShareOwnership::Guest ? FileSharingOwners::Guest : FileSharingOwners::ServerUser };
            ShareServer server(std::move(root).value());
            if (!install_seccomp(ThreadKind::Event, shares))
                return install_failed_code;
            end_child(ThreadKind::Event, action(server));
        });
    }

    std::string directory;
};

TEST_F(FileSharingFilter, EveryOperation_RunsUnderTheFilter)
{
    auto end = run([](ShareServer& server) -> int {
        P9TestClient client(server);
        client.attach();
        std::vector<bool> results;
        results.push_back(P9TestClient::walked(client.walk(0, 1, { "in" })) == 1);
        results.push_back(client.lopen(1, 0).ok(msg::tlopen));
        results.push_back(P9TestClient::data(client.read(1, 0, 5)) == "input");
        results.push_back(client.getattr(1).ok(msg::tgetattr));
        results.push_back(client.walk(0, 2, {}).ok(msg::twalk));
        results.push_back(client.lcreate(2, "out", p9::open_flag::read_write, 0644).ok(msg::tlcreate));
        results.push_back(client.write(2, 0, "output").ok(msg::twrite));
        results.push_back(client
                              .send(msg::tfsync,
                                  [](auto& w) {
                                      w.u32(2);
                                      w.u32(0);
                                  })
                              .ok(msg::tfsync));
        results.push_back(
            client.setattr(2, p9::setattr::mode | p9::setattr::size | p9::setattr::mtime, 0600, 3).ok(msg::tsetattr));
        results.push_back(client.mkdir(0, "d").ok(msg::tmkdir));
        results.push_back(client.renameat(0, "out", 0, "out2").ok(msg::trenameat));
        results.push_back(client.symlink(0, "l", "/etc/passwd").ok(msg::tsymlink));
        results.push_back(client.walk(0, 3, { "l" }).ok(msg::twalk));
        results.push_back(client.readlink(3).ok(msg::treadlink));
        results.push_back(client.link(0, 1, "in2").ok(msg::tlink));
        results.push_back(client.walk(0, 4, {}).ok(msg::twalk));
        results.push_back(client.lopen(4, 0).ok(msg::tlopen));
        results.push_back(client
                              .send(msg::treaddir,
                                  [](auto& w) {
                                      w.u32(4);
                                      w.u64(0);
                                      w.u32(4096);
                                  })
                              .ok(msg::treaddir));
        results.push_back(client.send(msg::tstatfs, [](auto& w) { w.u32(0); }).ok(msg::tstatfs));
        results.push_back(client.unlinkat(0, "in2").ok(msg::tunlinkat));
        results.push_back(client.unlinkat(0, "d", p9::unlink_remove_dir).ok(msg::tunlinkat));
        results.push_back(client.clunk(1).ok(msg::tclunk));
        for (size_t i = 0; i < results.size(); ++i)
            if (!results[i])
                return static_cast<int>(i + 1);
        return 0;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}

TEST_F(FileSharingFilter, GuestOwnedShare_ChownsUnderTheFilter_OnlyByDescriptor)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "SKIPPING: giving files to other owners needs root";
    auto end = run(
        [](ShareServer& server) -> int {
            P9TestClient client(server);
            client.attach();
            if (!client.attach_as(5, 1234).ok(msg::tattach))
                return 1;
            if (!client.lcreate(5, "owned", p9::open_flag::write_only, 04755, 99).ok(msg::tlcreate))
                return 2;
            if (!client.write(5, 0, "x").ok(msg::twrite))
                return 3; // clears the set-user-ID bit: a write by a user other than root
            if (!client.mkdir(0, "d", 0755, 7).ok(msg::tmkdir) || !client.symlink(0, "l", "owned", 7).ok(msg::tsymlink))
                return 4;
            if (P9TestClient::walked(client.walk(0, 1, { "d" })) != 1
                || !client.setattr_owner(1, p9::setattr::uid | p9::setattr::gid, 0, 0, 42, 43).ok(msg::tsetattr))
                return 5;
            return 0;
        },
        ShareOwnership::Guest);
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
    struct stat st { };
    ASSERT_EQ(::stat((directory + "/owned").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 99u);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    ASSERT_EQ(::stat((directory + "/d").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 42u);
    // By a path instead of a descriptor, fchownat is still refused.
    end = run(
        [](ShareServer& server) -> int {
            return ::fchownat(server.root().root_fd(), "owned", 0, 0, AT_SYMLINK_NOFOLLOW);
        },
        ShareOwnership::Guest);
    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(FileSharingRules, Chown_OnlyForGuestOwnedShares)
{
    std::vector<int> roots { 7 };
    std::vector<int> procs { 8 };
    auto has_chown = [](std::vector<SyscallRule> const& rules) {
        return std::any_of(rules.begin(), rules.end(), [](auto const& rule) { return rule.name == "fchownat"; });
    };
    EXPECT_FALSE(has_chown(file_sharing_rules(roots, procs)));
    auto guest = file_sharing_rules(roots, procs, FileSharingOwners::Guest);
    EXPECT_TRUE(has_chown(guest));
    EXPECT_LE(distinct_syscall_count(guest), file_sharing_syscall_budget);
    EXPECT_TRUE(SeccompFilter::create(guest));
}

TEST_F(FileSharingFilter, OpenOutsideTheShareDescriptors_Kills)
{
    auto end = run([](ShareServer&) -> int {
        return static_cast<int>(::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY));
    });
    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
    end = run([](ShareServer&) -> int {
        open_how how {};
        how.flags = O_RDONLY;
        return static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", &how, sizeof how));
    });
    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_F(FileSharingFilter, EveryOneOfSeveralShares_OpensUnderTheFilter)
{
    // Every share's descriptors are in the precompiled program: one left out (or written twice)
    // would kill the child at that share's open.
    auto end = run_in_child([&]() -> int {
        std::vector<ShareRoot> roots;
        FileSharingDescriptors shares;
        for (int i = 0; i < 3; ++i) {
            auto root = ShareRoot::open(
                directory, ShareAccess::ReadWrite, { ::geteuid(), ::getegid() }, ShareOwnership::ServerUser);
            if (!root)
                return 90;
            shares.share_roots.push_back(root->root_fd());
            shares.proc_fd_directories.push_back(root->proc_fds());
            roots.push_back(std::move(root).value());
        }
        if (!install_seccomp(ThreadKind::Event, shares))
            return install_failed_code;
        for (auto const& root : roots) {
            int path = root.resolve("in", O_PATH);
            if (path < 0)
                end_child(ThreadKind::Event, 91);
            if (root.reopen(path, O_RDONLY) < 0)
                end_child(ThreadKind::Event, 92);
        }
        end_child(ThreadKind::Event, action_returned_code);
    });
    EXPECT_TRUE(end.exited_with(action_returned_code)) << end.describe();
}

TEST(FileSharingRules, SharesOnAnotherThreadKind_AreRefusedBeforeAnyFilterLoads)
{
    auto end = run_in_child([]() -> int {
        FileSharingDescriptors shares { { 7 }, { 8 }, FileSharingOwners::ServerUser };
        auto installed = install_seccomp(ThreadKind::Vcpu, shares);
        if (installed)
            return 1;
        if (installed.error().message.find("only the event thread") == std::string::npos)
            return 2;
        // Still unfiltered: a syscall no list allows works.
        int fd = static_cast<int>(::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
        return fd >= 0 ? 0 : 3;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

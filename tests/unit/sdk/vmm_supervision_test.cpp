// The VMM dies with the application that started it: the husk CLI is started with a script
// standing in for husk-vmm (it records its pid and never answers), the CLI is killed with
// SIGKILL while it waits for the guest, and the stand-in must be gone within a second.
#include "tests/unit/testing/scratch_dir.hpp"
#include <chrono>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace {

using namespace std::chrono_literals;

bool alive(pid_t pid)
{
    // A zombie still answers kill(0); its state letter in /proc says it has exited.
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field;
    for (int i = 0; i < 3 && stat >> field; ++i) { }
    return stat.good() && field != "Z" && field != "X";
}

TEST(VmmSupervision, ApplicationKilled_VmmDiesWithIt)
{
    husk::test_support::ScratchDir scratch { "husk-supervision-test" };
    std::string const& dir = scratch.path();
    std::string pid_file = dir + "/pid";
    std::string vmm = dir + "/fake-vmm";
    std::ofstream(vmm) << "#!/bin/sh\necho \"$@\" > " << dir << "/args\necho $$ > " << pid_file << ".tmp; mv "
                       << pid_file << ".tmp " << pid_file << "\nexec sleep 60\n";
    chmod(vmm.c_str(), 0755);
    std::ofstream(dir + "/vmlinux") << "k";
    std::ofstream(dir + "/initrd") << "i";
    std::vector<std::string> arguments { HUSK_CLI_PATH, "run", "-q", "--no-jail", "--boot-timeout", "60s", "--vmm", vmm,
        "--kernel", dir + "/vmlinux", "--initrd", dir + "/initrd", "--", "true" };
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t cli = 0;
    ASSERT_EQ(posix_spawn(&cli, argv[0], nullptr, nullptr, argv.data(), environ), 0);

    pid_t vmm_pid = 0;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         !vmm_pid && std::chrono::steady_clock::now() < deadline;) {
        std::ifstream(pid_file) >> vmm_pid;
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_GT(vmm_pid, 0) << "the fake husk-vmm never started";
    ASSERT_TRUE(alive(vmm_pid));
    kill(cli, SIGKILL);
    waitpid(cli, nullptr, 0);
    auto killed = std::chrono::steady_clock::now();
    while (alive(vmm_pid) && std::chrono::steady_clock::now() - killed < 2s)
        std::this_thread::sleep_for(10ms);

    EXPECT_FALSE(alive(vmm_pid)) << "husk-vmm outlived the application";
    EXPECT_LT(std::chrono::steady_clock::now() - killed, 1s);
    if (alive(vmm_pid))
        kill(vmm_pid, SIGKILL);
    // A SIGKILLed application cannot remove its sandbox directory; the test does.
    std::string args;
    std::getline(std::ifstream(dir + "/args"), args);
    if (auto at = args.find("--vsock "); at != std::string::npos) {
        auto socket = args.substr(at + 8, args.find(' ', at + 8) - at - 8);
        std::filesystem::remove_all(std::filesystem::path(socket).parent_path());
    }
}

} // namespace

// Lab: the job channel of issue #3 end to end — husk-vmm's virtio-vsock device, the hybrid-vsock
// backend, husk-init's agent and the protocol — driven through libhusk against one real VM.
// One sandbox serves every test (each boot costs seconds under the lab's TCG); tests leave the
// guest as they found it.
#include "husk/husk.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

husk::Sandbox* g_sandbox = nullptr;

// sha256 of `data` by the host's sha256sum, as lowercase hex.
std::string host_sha256(std::string_view data)
{
    char path[] = "/tmp/husk-agent-lab-XXXXXX";
    int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    {
        std::ofstream out(path, std::ios::binary);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    ::close(fd);
    std::string command = std::string("sha256sum < ") + path;
    FILE* pipe = ::popen(command.c_str(), "r");
    char hex[65] = {};
    size_t got = pipe ? std::fread(hex, 1, 64, pipe) : 0;
    if (pipe)
        ::pclose(pipe);
    ::unlink(path);
    EXPECT_EQ(got, 64u);
    return std::string(hex, got);
}

// The first word of the guest's `sha256sum FILE` output.
std::string guest_sha256(std::string const& path)
{
    auto result = g_sandbox->run({ "sha256sum", path });
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
    if (!result)
        return {};
    EXPECT_EQ(result->exit_code, 0) << result->stderr_data;
    return result->stdout_data.substr(0, 64);
}

std::string random_bytes(size_t size, uint32_t seed)
{
    std::mt19937 generator(seed);
    std::string bytes(size, '\0');
    for (auto& byte : bytes)
        byte = static_cast<char>(generator() & 0xff);
    return bytes;
}

class AgentLab : public testing::Test {
protected:
    static void SetUpTestSuite()
    {
        husk::SandboxOptions options;
        options.memory_bytes = 256ull << 20; // room for the 50 MiB file on the guest's tmpfs
        options.boot_timeout = 60s; // TCG-nested boots are slow
        auto sandbox = husk::Sandbox::create(options);
        ASSERT_TRUE(sandbox.has_value()) << sandbox.error().message;
        g_sandbox = new husk::Sandbox(std::move(*sandbox));
    }
    static void TearDownTestSuite()
    {
        delete g_sandbox;
        g_sandbox = nullptr;
    }
    void SetUp() override { ASSERT_NE(g_sandbox, nullptr) << "the sandbox did not start"; }
};

} // namespace

TEST_F(AgentLab, Echo_OutputAndExitComeBack)
{
    auto result = g_sandbox->run({ "echo", "hello", "from the guest" });
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->status, husk::RunStatus::Exited);
    EXPECT_EQ(result->exit_code, 0);
    EXPECT_EQ(result->stdout_data, "hello from the guest\n");
    EXPECT_EQ(result->stderr_data, "");
}

TEST_F(AgentLab, TenMiBOfStdout_ArrivesIntact)
{
    constexpr size_t size = 10u << 20;
    auto made = g_sandbox->run_shell("head -c " + std::to_string(size) + " /dev/urandom > /tmp/big");
    ASSERT_TRUE(made.has_value() && made->ok()) << (made ? made->stderr_data : made.error().message);

    auto result = g_sandbox->run({ "cat", "/tmp/big" });
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->exit_code, 0);
    EXPECT_FALSE(result->stdout_truncated);
    ASSERT_EQ(result->stdout_data.size(), size);
    EXPECT_EQ(host_sha256(result->stdout_data), guest_sha256("/tmp/big"));
    (void)g_sandbox->remove("/tmp/big");
}

TEST_F(AgentLab, BinaryStdin_RoundTripsWithMatchingSha256)
{
    husk::RunOptions options;
    options.stdin_data = random_bytes(3u << 20, 7);
    options.stdin_data[0] = '\0'; // NULs and every other byte value must pass untouched
    auto result = g_sandbox->run({ "sha256sum" }, options);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->exit_code, 0) << result->stderr_data;
    EXPECT_EQ(result->stdout_data.substr(0, 64), host_sha256(options.stdin_data));

    auto echoed = g_sandbox->run({ "cat" }, options);
    ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
    EXPECT_TRUE(echoed->stdout_data == options.stdin_data) << "cat changed the bytes";
}

TEST_F(AgentLab, EnvAndWorkdir_ReachTheProgram)
{
    husk::RunOptions options;
    options.env = { "GREETING=hello world", "EMPTY=" };
    options.workdir = "/proc";
    auto result = g_sandbox->run_shell("echo \"$GREETING\"; echo \"[$EMPTY]\"; pwd", options);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->stdout_data, "hello world\n[]\n/proc\n");
}

TEST_F(AgentLab, ExitCodesSignalsAndSpawnErrors_AreReportedExactly)
{
    for (int code : { 0, 1, 3, 42, 255 }) {
        auto result = g_sandbox->run_shell("exit " + std::to_string(code));
        ASSERT_TRUE(result.has_value()) << result.error().message;
        EXPECT_EQ(result->status, husk::RunStatus::Exited);
        EXPECT_EQ(result->exit_code, code);
    }
    auto killed = g_sandbox->run_shell("kill -KILL $$");
    ASSERT_TRUE(killed.has_value()) << killed.error().message;
    EXPECT_EQ(killed->status, husk::RunStatus::Signaled);
    EXPECT_EQ(killed->signal, SIGKILL);

    auto missing = g_sandbox->run({ "/no/such/program" });
    ASSERT_TRUE(missing.has_value()) << missing.error().message;
    EXPECT_EQ(missing->status, husk::RunStatus::SpawnFailed);
    EXPECT_EQ(missing->spawn_error, husk::SpawnErrorKind::NotFound);

    husk::RunOptions bad_cwd;
    bad_cwd.workdir = "/no/such/dir";
    auto cwd = g_sandbox->run({ "true" }, bad_cwd);
    ASSERT_TRUE(cwd.has_value()) << cwd.error().message;
    EXPECT_EQ(cwd->status, husk::RunStatus::SpawnFailed);
    EXPECT_EQ(cwd->spawn_error, husk::SpawnErrorKind::BadWorkdir);
}

TEST_F(AgentLab, ProgramIgnoringSigtermPastItsTimeout_IsKilled)
{
    husk::RunOptions options;
    options.timeout = 1s;
    // The trap makes SIGTERM useless; the agent must escalate to SIGKILL on the process group
    // (the sleep child included, or the output pipe would stay open).
    auto result = g_sandbox->run_shell("trap '' TERM; sleep 60 & sleep 60; echo never", options);
    ASSERT_TRUE(result.has_value()) << result.error().message;
    EXPECT_EQ(result->status, husk::RunStatus::TimedOut);
    EXPECT_TRUE(result->timed_out());
    EXPECT_EQ(result->signal, SIGKILL);
    EXPECT_EQ(result->stdout_data, "");
    // The guest is still usable afterwards.
    auto after = g_sandbox->run({ "true" });
    ASSERT_TRUE(after.has_value()) << after.error().message;
    EXPECT_TRUE(after->ok());
}

TEST_F(AgentLab, EightConcurrentExecs_EachGetsItsOwnOutput)
{
    constexpr int count = 8;
    std::vector<std::thread> threads;
    std::vector<std::optional<husk::RunResult>> results(count);
    std::vector<std::string> errors(count);
    for (int i = 0; i < count; ++i) {
        threads.emplace_back([i, &results, &errors] {
            // Interleaved output on both streams, with a pause so the jobs overlap.
            auto result = g_sandbox->run_shell("for n in 1 2 3; do echo out" + std::to_string(i)
                + "; echo err" + std::to_string(i) + " >&2; sleep 0.2; done; exit " + std::to_string(i));
            if (result)
                results[i] = *result;
            else
                errors[i] = result.error().message;
        });
    }
    for (auto& thread : threads)
        thread.join();
    for (int i = 0; i < count; ++i) {
        ASSERT_TRUE(results[i].has_value()) << "job " << i << ": " << errors[i];
        std::string out = "out" + std::to_string(i) + "\n", err = "err" + std::to_string(i) + "\n";
        EXPECT_EQ(results[i]->stdout_data, out + out + out);
        EXPECT_EQ(results[i]->stderr_data, err + err + err);
        EXPECT_EQ(results[i]->exit_code, i);
    }
}

TEST_F(AgentLab, FilesOfZeroOneAndFiftyMiBBytes_RoundTripWithMatchingHashes)
{
    for (size_t size : { size_t { 0 }, size_t { 1 }, size_t { 50u << 20 } }) {
        SCOPED_TRACE("size " + std::to_string(size));
        std::string path = "/tmp/file-" + std::to_string(size);
        auto data = random_bytes(size, static_cast<uint32_t>(size));
        auto written = g_sandbox->write_file(path, data, 0600);
        ASSERT_TRUE(written.has_value()) << written.error().message;

        auto info = g_sandbox->stat(path);
        ASSERT_TRUE(info.has_value()) << info.error().message;
        EXPECT_EQ(info->size, size);
        EXPECT_EQ(info->mode & 0777, 0600u);
        EXPECT_EQ(guest_sha256(path), host_sha256(data));

        auto read = g_sandbox->read_file(path);
        ASSERT_TRUE(read.has_value()) << read.error().message;
        EXPECT_EQ(read->size(), size);
        EXPECT_TRUE(*read == data) << "the bytes read back differ";
        ASSERT_TRUE(g_sandbox->remove(path).has_value());
    }
}

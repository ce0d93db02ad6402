// Lab: snapshots, restores and copy-on-write clones of real VMs (docs/snapshots.md). One sandbox
// boots once, with a shell loop counting in the background, and is snapshotted; every test
// restores from that snapshot. Restored VMs run jailed with seccomp on, as the lab runs as root.
#include "husk/husk.hpp"
#include "tests/lab/sdk_lab_support.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using husk_lab::lab_options;
using husk_lab::run_ok;
using husk_lab::shell;

husk::Sandbox restore(std::string const& directory)
{
    auto started = std::chrono::steady_clock::now();
    auto sandbox = husk::Sandbox::restore(directory, lab_options());
    if (!sandbox) {
        ADD_FAILURE() << husk::error_kind_name(sandbox.error().kind) << ": " << sandbox.error().message;
        std::abort();
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::printf("restored to agent-ready in %lld ms\n", static_cast<long long>(took.count()));
    return std::move(*sandbox);
}

int64_t host_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string snapshot_directory; // made by the first SnapshotLab suite, removed by RemoveSnapshot

// A job's output as a number; anything else fails the test naming what was there.
long number_in(std::string const& text)
{
    try {
        return std::stol(text);
    } catch (std::exception const&) {
        ADD_FAILURE() << "not a number: '" << text << "'";
        return -1;
    }
}

class SnapshotLab : public ::testing::Test {
protected:
    // Runs for every suite derived from this one too: the first makes the snapshot, the others
    // reuse it; a global environment removes it at the end.
    static void SetUpTestSuite()
    {
        if (!directory.empty() && fs::exists(directory + "/state"))
            return;
        directory = fs::temp_directory_path() / ("husk-snapshot-lab-" + std::to_string(::getpid()));
        auto options = lab_options();
        options.boot_timeout = 180s; // a cold boot, jailed, on a lab that may be shared
        auto original = husk::Sandbox::create(options);
        ASSERT_TRUE(original) << original.error().message;
        // A counter that outlives its job (its own session, so the agent's process-group kill of
        // the job does not reach it) and must go on counting in every clone. It renames a complete
        // file into place: `echo > /tmp/count` truncates first, and a snapshot (or a reader) that
        // falls between the truncation and the write sees an empty counter.
        auto started = original->run_shell(
            "setsid sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count.next; mv /tmp/count.next /tmp/count; "
            "sleep 0.1; done' "
            "</dev/null >/dev/null 2>&1 & while [ ! -s /tmp/count ]; do sleep 0.1; done; cat /tmp/count");
        ASSERT_TRUE(started && started->ok());
        auto taken = std::chrono::steady_clock::now();
        auto snapshot = original->snapshot(directory);
        ASSERT_TRUE(snapshot) << snapshot.error().message;
        std::printf("snapshot of a %llu MiB guest taken in %lld ms\n",
            static_cast<unsigned long long>(lab_options().memory_bytes >> 20),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - taken)
                    .count()));
        // The original goes on after its snapshot.
        auto after = original->run_shell("cat /tmp/count");
        ASSERT_TRUE(after && after->ok());
        count_at_snapshot = number_in(started->stdout_data);
        snapshot_taken_at = host_seconds();
        (void)original->shutdown();
    }

    static inline std::string& directory = snapshot_directory;
    static inline long count_at_snapshot { 0 };
    static inline int64_t snapshot_taken_at { 0 };
};

TEST_F(SnapshotLab, Restore_ShellLoopCountingBeforeTheSnapshot_GoesOnCounting)
{
    auto clone = restore(directory);
    auto first = number_in(run_ok(clone, "cat /tmp/count"));
    auto second = number_in(run_ok(clone, "sleep 1; cat /tmp/count"));
    EXPECT_GE(first, count_at_snapshot);
    EXPECT_GT(second, first);
}

TEST_F(SnapshotLab, TwoClones_WritePrivatelyAndDiffer)
{
    auto a = restore(directory);
    auto b = restore(directory);
    run_ok(a, "echo from-a > /tmp/mine");
    EXPECT_EQ(run_ok(b, "cat /tmp/mine 2>/dev/null || echo absent"), "absent\n");
    run_ok(b, "echo from-b > /tmp/mine");
    EXPECT_EQ(run_ok(a, "cat /tmp/mine"), "from-a\n");
    EXPECT_EQ(run_ok(b, "cat /tmp/mine"), "from-b\n");

    // Fresh entropy and a hostname each: no two clones share random numbers or a name.
    auto random_a = run_ok(a, "head -c 32 /dev/urandom | od -An -tx1");
    auto random_b = run_ok(b, "head -c 32 /dev/urandom | od -An -tx1");
    EXPECT_NE(random_a, random_b);
    auto host_a = run_ok(a, "hostname");
    auto host_b = run_ok(b, "hostname");
    EXPECT_NE(host_a, host_b);
    EXPECT_TRUE(host_a.starts_with("husk-")) << host_a;
}

TEST_F(SnapshotLab, Restore_WithoutTheAgentsHelp_AdvancesTheGuestClockItself)
{
    // husk-vmm alone (no SDK, so no Refresh): kvmclock and the TSC were moved on at restore. In
    // the lab this lands within a few seconds of the host (measured: 4 s behind for a snapshot
    // 17 s old), not within one: the exact time is the agent's Refresh (the test above).
    auto age = host_seconds() - snapshot_taken_at;
    if (age < 10)
        std::this_thread::sleep_for(std::chrono::seconds(10 - age));
    auto work = directory + "-raw";
    fs::create_directories(work);
    auto command = std::string(HUSK_VMM_PATH) + " --restore " + directory + " --vsock " + work + "/v.sock --report "
        + work + "/report.json 2>" + work + "/vmm.log & pid=$!; for i in $(seq 1 300); do " + HUSK_AGENT_PROBE_PATH
        + " " + work + "/v.sock -- date +%s 2>/dev/null && break; sleep 0.1; done; " + HUSK_AGENT_PROBE_PATH
        + " --shutdown " + work + "/v.sock -- true >/dev/null 2>&1; wait $pid";
    auto [status, out] = shell(command);
    EXPECT_EQ(status, 0) << out;
    ASSERT_FALSE(out.empty());
    auto guest = number_in(out);
    auto host = host_seconds();
    std::printf("raw restore: guest clock %+lld s from the host's, snapshot %lld s old\n",
        static_cast<long long>(guest - host), static_cast<long long>(host - snapshot_taken_at));
    // Well past the snapshot's time: the clock was advanced, not left where it stood.
    EXPECT_GT(guest - snapshot_taken_at, (host - snapshot_taken_at) / 2) << "guest " << guest << ", host " << host;
    EXPECT_LE(guest, host + 1);
    fs::remove_all(work);
}

TEST_F(SnapshotLab, TwentyClonesAtOnce_AllAnswerAJob)
{
    constexpr int clones = 20;
    std::vector<std::thread> threads;
    std::atomic<int> answered { 0 };
    std::mutex names_lock;
    std::set<std::string> names;
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < clones; ++i) {
        threads.emplace_back([&] {
            auto options = lab_options();
            options.boot_timeout = 300s; // twenty restores share the lab's one emulated CPU
            auto clone = husk::Sandbox::restore(directory, options);
            if (!clone) {
                ADD_FAILURE() << clone.error().message;
                return;
            }
            auto name = clone->run_shell("echo $(hostname) $(cat /tmp/count)");
            if (name && name->ok()) {
                ++answered;
                std::lock_guard lock(names_lock);
                names.insert(name->stdout_data);
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    std::printf("%d clones restored and answered in %lld ms\n", answered.load(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()));
    EXPECT_EQ(answered.load(), clones);
    EXPECT_EQ(names.size(), static_cast<size_t>(clones));
}

class RemoveSnapshot : public ::testing::Environment {
public:
    void TearDown() override
    {
        if (!snapshot_directory.empty())
            fs::remove_all(snapshot_directory);
    }
};
[[maybe_unused]] auto* const remove_snapshot = ::testing::AddGlobalTestEnvironment(new RemoveSnapshot);

class DamagedSnapshot : public SnapshotLab {
protected:
    void SetUp() override
    {
        damaged = directory + "-damaged";
        fs::create_directories(damaged);
        fs::copy_file(directory + "/state", damaged + "/state", fs::copy_options::overwrite_existing);
        fs::remove(damaged + "/memory");
        fs::create_hard_link(directory + "/memory", damaged + "/memory");
    }
    void TearDown() override { fs::remove_all(damaged); }

    void patch_state(std::function<void(std::string&)> const& change)
    {
        std::string bytes;
        {
            std::ifstream in(damaged + "/state", std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        change(bytes);
        std::ofstream out(damaged + "/state", std::ios::binary | std::ios::trunc);
        out << bytes;
    }

    std::string restore_error()
    {
        auto options = lab_options();
        options.boot_timeout = 20s;
        auto sandbox = husk::Sandbox::restore(damaged, options);
        EXPECT_FALSE(sandbox);
        if (sandbox)
            return {};
        EXPECT_EQ(sandbox.error().kind, husk::ErrorKind::BadConfig) << sandbox.error().message;
        return sandbox.error().message;
    }

    std::string damaged;
};

TEST_F(DamagedSnapshot, FlippedByte_IsRefusedByItsChecksum)
{
    patch_state([](std::string& bytes) { bytes[bytes.size() / 2] ^= 0x40; });
    EXPECT_NE(restore_error().find("checksum"), std::string::npos);
}

TEST_F(DamagedSnapshot, TruncatedStateFile_IsRefused)
{
    patch_state([](std::string& bytes) { bytes.resize(bytes.size() - 100); });
    EXPECT_NE(restore_error().find("truncated"), std::string::npos);
}

TEST_F(DamagedSnapshot, OtherFormatVersion_IsRefusedNamingIt)
{
    patch_state([](std::string& bytes) { bytes[8] = 99; });
    EXPECT_NE(restore_error().find("format version 99"), std::string::npos);
}

TEST_F(DamagedSnapshot, OtherMemorySizeOnTheCommandLine_IsRefused)
{
    auto [status, out] = shell(std::string(HUSK_VMM_PATH) + " --restore " + damaged + " --memory 512M 2>&1");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("128 MiB of guest memory but 512 MiB"), std::string::npos) << out;
}

TEST_F(DamagedSnapshot, ShortMemoryFile_IsRefused)
{
    fs::remove(damaged + "/memory");
    fs::copy_file(directory + "/memory", damaged + "/memory");
    fs::resize_file(damaged + "/memory", 64ull << 20);
    EXPECT_NE(restore_error().find("has 67108864 bytes; the state file says"), std::string::npos);
}

TEST(SnapshotRootfsLab, ReadOnlyDebianRootfs_RestoresAndRunsPython)
{
    auto options = lab_options();
    options.rootfs_path = "debian-python";
    options.memory_bytes = 256ull << 20;
    options.boot_timeout = 120s;
    auto original = husk::Sandbox::create(options);
    ASSERT_TRUE(original) << original.error().message;
    auto directory = fs::temp_directory_path() / ("husk-snapshot-rootfs-" + std::to_string(::getpid()));
    ASSERT_TRUE(original->snapshot(directory));
    (void)original->shutdown();
    auto clone = husk::Sandbox::restore(directory, options);
    ASSERT_TRUE(clone) << clone.error().message;
    auto result = clone->run({ "python3", "-c", "print(6 * 7)" });
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_EQ(result->stdout_data, "42\n");
    fs::remove_all(directory);
}

} // namespace

namespace {

TEST_F(SnapshotLab, Pool_HandsOutDistinctReadyClonesAndRefills)
{
    auto options = lab_options();
    options.boot_timeout = 120s;
    auto pool = husk::Pool::create(
        { .snapshot_directory = directory, .size = 2, .parallel_restores = 2, .sandbox = options });
    ASSERT_TRUE(pool) << pool.error().message;
    std::set<std::string> names;
    std::vector<husk::Sandbox> taken;
    for (int i = 0; i < 3; ++i) { // the third must wait for a replacement
        auto sandbox = pool->take(std::chrono::seconds(180));
        ASSERT_TRUE(sandbox) << sandbox.error().message;
        names.insert(run_ok(*sandbox, "hostname"));
        taken.push_back(std::move(*sandbox));
    }
    EXPECT_EQ(names.size(), 3u);
    auto deadline = std::chrono::steady_clock::now() + 180s;
    while (pool->ready() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(pool->ready(), 2u);
}

TEST_F(SnapshotLab, Clone_WallClock_MatchesTheHost)
{
    // The last of the suite's tests, so the snapshot has aged while the others ran: at least a
    // minute, as a clock left at snapshot time (or one advanced only roughly) would show.
    auto age = host_seconds() - snapshot_taken_at;
    if (age < 60)
        std::this_thread::sleep_for(std::chrono::seconds(60 - age));
    auto clone = restore(directory);
    auto guest = number_in(run_ok(clone, "date +%s"));
    auto host = host_seconds();
    EXPECT_LE(std::abs(guest - host), 1) << "guest " << guest << ", host " << host;
    std::printf("clone of a %lld s old snapshot: guest clock %+lld s from the host's\n",
        static_cast<long long>(host - snapshot_taken_at), static_cast<long long>(guest - host));
}

} // namespace

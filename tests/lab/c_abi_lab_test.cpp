// Lab: the C ABI (sdk/c/husk.h) against a real VM, as a binding in another language would use
// it: create with the default jail (root in the lab: jailed) and with HUSK_JAIL_OFF, run jobs
// with stdin, write a file and read it back through a job, get exit statuses, share a host
// directory, snapshot and restore, destroy.
#include "husk.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string>

namespace {

std::string output_of(husk_result const* result)
{
    size_t size = 0;
    char const* data = husk_result_stdout(result, &size);
    return std::string(data, size);
}

husk_sandbox_config lab_config(int32_t jail)
{
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.memory_bytes = 128ull << 20;
    config.boot_timeout_ms = 60'000; // TCG-nested boots are slow
    config.jail = jail;
    return config;
}

husk_sandbox* create(int32_t jail, husk_sandbox_config config = {})
{
    if (!config.size)
        config = lab_config(jail);
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;
    if (husk_sandbox_create(&config, &sandbox, &error) != 0) {
        ADD_FAILURE() << "husk_sandbox_create: " << (error ? husk_error_message(error) : "no error handle");
        husk_error_free(error);
        return nullptr;
    }
    return sandbox;
}

std::string run_shell(husk_sandbox* sandbox, char const* script)
{
    char const* argv[] = { "sh", "-c", script };
    husk_result* result = nullptr;
    husk_error* error = nullptr;
    if (husk_sandbox_run(sandbox, argv, 3, nullptr, &result, &error) != 0) {
        ADD_FAILURE() << "husk_sandbox_run: " << husk_error_message(error);
        husk_error_free(error);
        return "";
    }
    auto output = output_of(result);
    husk_result_free(result);
    return output;
}

// A directory under /tmp the jailed VMM's own uid can read, removed at the end of the test.
struct ReadableDir {
    std::filesystem::path path;
    ReadableDir()
    {
        std::string pattern = "/tmp/husk-c-abi-lab-XXXXXX";
        if (::mkdtemp(pattern.data()))
            path = pattern;
        std::filesystem::permissions(path, std::filesystem::perms::all);
    }
    ~ReadableDir() { std::filesystem::remove_all(path); }
};

} // namespace

TEST(CAbiLab, DefaultJail_RunsJailedWithStdinAndFiles)
{
    husk_sandbox* sandbox = create(HUSK_JAIL_AUTO);
    ASSERT_NE(sandbox, nullptr);
    EXPECT_EQ(husk_sandbox_jailed(sandbox), 1) << "the lab runs as root: the default should jail";

    char const* cat[] = { "cat" };
    husk_run_config run {};
    run.size = sizeof run;
    run.stdin_data = "from C\n";
    run.stdin_size = 7;
    husk_result* result = nullptr;
    ASSERT_EQ(husk_sandbox_run(sandbox, cat, 1, &run, &result, nullptr), 0);
    EXPECT_EQ(husk_result_status(result), HUSK_RUN_EXITED);
    EXPECT_EQ(husk_result_exit_code(result), 0);
    EXPECT_EQ(output_of(result), "from C\n");
    husk_result_free(result);

    ASSERT_EQ(husk_sandbox_write_file(sandbox, "/tmp/c-abi", "written\0bytes", 13, 0644, nullptr), 0);
    char const* read_back[] = { "sh", "-c", "wc -c < /tmp/c-abi" };
    ASSERT_EQ(husk_sandbox_run(sandbox, read_back, 3, nullptr, &result, nullptr), 0);
    EXPECT_EQ(output_of(result), "13\n");
    husk_result_free(result);

    husk_sandbox_destroy(sandbox);
}

TEST(CAbiLab, JailOff_RunsUnjailedAndReportsExitStatuses)
{
    husk_sandbox* sandbox = create(HUSK_JAIL_OFF);
    ASSERT_NE(sandbox, nullptr);
    EXPECT_EQ(husk_sandbox_jailed(sandbox), 0);

    char const* exit_three[] = { "sh", "-c", "exit 3" };
    husk_result* result = nullptr;
    ASSERT_EQ(husk_sandbox_run(sandbox, exit_three, 3, nullptr, &result, nullptr), 0);
    EXPECT_EQ(husk_result_exit_status(result), 3);
    husk_result_free(result);

    char const* missing[] = { "/no/such/program" };
    ASSERT_EQ(husk_sandbox_run(sandbox, missing, 1, nullptr, &result, nullptr), 0);
    EXPECT_EQ(husk_result_status(result), HUSK_RUN_SPAWN_FAILED);
    EXPECT_EQ(husk_result_exit_status(result), 127);
    husk_result_free(result);

    husk_sandbox_destroy(sandbox);
}

TEST(CAbiLab, ReadOnlyMount_IsReadableAndRefusesWrites)
{
    ReadableDir shared;
    ASSERT_FALSE(shared.path.empty());
    std::ofstream(shared.path / "input.txt") << "from the host\n";
    auto host = shared.path.string();
    husk_mount mounts[] = { { host.c_str(), "/data", 1 } };
    auto config = lab_config(HUSK_JAIL_AUTO);
    config.mounts = mounts;
    config.mount_count = 1;
    husk_sandbox* sandbox = create(HUSK_JAIL_AUTO, config);
    ASSERT_NE(sandbox, nullptr);

    EXPECT_EQ(run_shell(sandbox, "cat /data/input.txt"), "from the host\n");
    EXPECT_EQ(run_shell(sandbox, "touch /data/new 2>/dev/null && echo written || echo refused"), "refused\n");
    EXPECT_FALSE(std::filesystem::exists(shared.path / "new"));
    husk_sandbox_destroy(sandbox);
}

TEST(CAbiLab, Snapshot_RestoresARunningCopy)
{
    ReadableDir snapshot;
    ASSERT_FALSE(snapshot.path.empty());
    husk_sandbox* original = create(HUSK_JAIL_AUTO);
    ASSERT_NE(original, nullptr);
    EXPECT_EQ(run_shell(original, "echo before > /tmp/mark && cat /tmp/mark"), "before\n");

    auto directory = (snapshot.path / "snap").string();
    husk_error* error = nullptr;
    ASSERT_EQ(husk_sandbox_snapshot(original, directory.c_str(), &error), 0)
        << (error ? husk_error_message(error) : "no error handle");
    husk_sandbox_destroy(original);

    auto config = lab_config(HUSK_JAIL_AUTO);
    husk_sandbox* restored = nullptr;
    ASSERT_EQ(husk_sandbox_restore(directory.c_str(), &config, &restored, &error), 0)
        << (error ? husk_error_message(error) : "no error handle");
    EXPECT_EQ(husk_sandbox_jailed(restored), 1);
    EXPECT_EQ(run_shell(restored, "cat /tmp/mark"), "before\n") << "the restored guest has the snapshot's files";
    husk_sandbox_destroy(restored);
}

// Lab: the C ABI (sdk/c/husk.h) against a real VM, as a binding in another language would use
// it: create with the default jail (root in the lab: jailed) and with HUSK_JAIL_OFF, run jobs
// with stdin, write a file and read it back through a job, get exit statuses, destroy.
#include "husk.h"

#include <gtest/gtest.h>
#include <string>

namespace {

std::string output_of(husk_result const* result)
{
    size_t size = 0;
    char const* data = husk_result_stdout(result, &size);
    return std::string(data, size);
}

husk_sandbox* create(int32_t jail)
{
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.memory_bytes = 128ull << 20;
    config.boot_timeout_ms = 60'000; // TCG-nested boots are slow
    config.jail = jail;
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;
    if (husk_sandbox_create(&config, &sandbox, &error) != 0) {
        ADD_FAILURE() << "husk_sandbox_create: " << (error ? husk_error_message(error) : "no error handle");
        husk_error_free(error);
        return nullptr;
    }
    return sandbox;
}

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

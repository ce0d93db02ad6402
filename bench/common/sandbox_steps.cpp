// Cold spawn, restore and the QEMU peer, each timed from its start to its result.
#include "bench/common/sandbox_steps.hpp"

#include "bench/common/timed_rounds.hpp"

namespace husk::bench {

namespace {

    Result<void> run_true(Sandbox& sandbox)
    {
        // The agent's timeout, and libhusk's deadline a little after it, end a hung job.
        RunOptions options;
        options.timeout = vm_step_limit;
        auto result = sandbox.run({ "true" }, options);
        if (!result)
            return fail("run true: " + result.error().message);
        if (!result->ok())
            return fail("run true did not succeed");
        return {};
    }

} // namespace

Result<double> time_create_and_run_true(SandboxOptions const& options, SpawnRecord* record)
{
    (void)detail::take_step_trace(); // what an earlier step left
    auto start = Clock::now();
    auto sandbox = Sandbox::create(options);
    if (!sandbox)
        return fail("create: " + sandbox.error().message);
    TRY(run_true(*sandbox));
    double millis = millis_since(start);
    auto stopping = Clock::now();
    (void)sandbox->shutdown();
    if (record) {
        record->teardown_ms.push_back(millis_since(stopping));
        record->jailed = sandbox->jailed();
        record->steps.add_run(detail::take_step_trace());
    }
    return millis;
}

Result<double> time_restore_and_run_true(
    std::filesystem::path const& snapshot, SandboxOptions const& options, SpawnRecord* record)
{
    (void)detail::take_step_trace();
    auto start = Clock::now();
    auto clone = Sandbox::restore(snapshot, options);
    if (!clone)
        return fail("restore: " + clone.error().message);
    TRY(run_true(*clone));
    double millis = millis_since(start);
    auto stopping = Clock::now();
    (void)clone->shutdown();
    if (record) {
        record->teardown_ms.push_back(millis_since(stopping));
        record->jailed = clone->jailed();
        record->steps.add_run(detail::take_step_trace());
    }
    return millis;
}

Result<double> time_qemu_boot_to_init(VmImages const& images)
{
    auto start = Clock::now();
    pid_t pid = spawn_process(
        qemu_command(images, { .exit_at_boot_marker = true, .vsock_cid = std::nullopt }, { "true" }), "/dev/null");
    if (pid < 0)
        return fail("cannot start " + images.qemu);
    if (!wait_process_for(pid, vm_step_limit))
        return fail(images.qemu + " did not reach husk-init's boot marker within "
            + std::to_string(vm_step_limit.count()) + " minutes (killed), or waiting for it failed");
    return millis_since(start);
}

} // namespace husk::bench

// VcpuRunner's destructor on a real vCPU: destroying a runner whose guest never exits must stop
// its thread (a stop request, a kick, a join) instead of hanging in the join, and must keep the
// reason of a VM that had already stopped. They need /dev/kvm and are skipped loudly without it.
#include "runtime/devices/bus.hpp"
#include "runtime/kvm/vcpu_kick.hpp"
#include "runtime/vmm/vcpu_runner.hpp"
#include "tests/unit/runtime/kvm/tiny_guest.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <thread>

using namespace husk;
using namespace std::chrono_literals;

namespace {

constexpr auto destruction_deadline = 5s;

class VcpuRunnerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto created = StopController::create();
        ASSERT_TRUE(created) << created.error().message;
        stop.emplace(std::move(created).value());
    }

    VcpuRunnerShared shared()
    {
        return { pio_bus, mmio_bus, *stop, [](std::string_view) {}, first_run_ns, DebugMode::Off, SeccompMode::Off };
    }
    // Starts a runner on `vcpu` and waits until its guest runs.
    std::unique_ptr<VcpuRunner> start_runner(Vcpu& vcpu)
    {
        EXPECT_TRUE(install_vcpu_kick_handler());
        auto runner = std::make_unique<VcpuRunner>(vcpu, shared());
        EXPECT_TRUE(runner->start());
        auto deadline = std::chrono::steady_clock::now() + destruction_deadline;
        while (first_run_ns.load() == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        EXPECT_NE(first_run_ns.load(), 0) << "the vCPU thread never entered KVM_RUN";
        std::this_thread::sleep_for(20ms); // well inside KVM_RUN by now
        return runner;
    }

    Bus pio_bus;
    Bus mmio_bus;
    std::optional<StopController> stop;
    std::atomic<int64_t> first_run_ns { 0 };
};

// Destroys `runner` on another thread; false when that did not finish in time (the thread is then
// left behind, stuck, and the test fails instead of hanging).
bool destroyed_in_time(std::unique_ptr<VcpuRunner> runner)
{
    std::promise<void> done;
    auto finished = done.get_future();
    std::thread destroyer([&runner, done = std::move(done)]() mutable {
        runner.reset();
        done.set_value();
    });
    if (finished.wait_for(destruction_deadline) != std::future_status::ready) {
        destroyer.detach();
        (void)runner.release(); // still in use by the stuck destroyer
        return false;
    }
    destroyer.join();
    return true;
}

} // namespace

TEST_F(VcpuRunnerTest, VcpuRunner_DestroyedWhileGuestSpins_RequestsStopAndJoins)
{
    // jmp $ : spins forever without exiting to user space.
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xeb, 0xfe);
    auto runner = start_runner(guest->vcpu);

    ASSERT_TRUE(destroyed_in_time(std::move(runner))) << "~VcpuRunner hung on a spinning guest";

    auto decision = stop->decision();
    ASSERT_TRUE(decision);
    EXPECT_EQ(decision->reason, StopReason::VmmError);
    EXPECT_NE(decision->detail.find("vCPU 0"), std::string::npos) << decision->detail;
}

TEST_F(VcpuRunnerTest, VcpuRunner_DestroyedAfterStopRequest_KeepsTheFirstReason)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xeb, 0xfe);
    auto runner = start_runner(guest->vcpu);
    ASSERT_TRUE(stop->request(StopReason::Timeout, "test timeout"));

    ASSERT_TRUE(destroyed_in_time(std::move(runner)));

    EXPECT_EQ(stop->decision()->reason, StopReason::Timeout);
}

TEST_F(VcpuRunnerTest, VcpuRunner_NeverStarted_DestroysWithoutAStopRequest)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xf4);

    {
        VcpuRunner runner(guest->vcpu, shared());
    }

    EXPECT_FALSE(stop->requested());
}

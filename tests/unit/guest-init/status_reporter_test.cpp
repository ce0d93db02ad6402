// Tests for guest-init/status_reporter: which register each job outcome goes to. (The port writes
// themselves need the status device and run in the lab.)
#include "guest-init/status_reporter.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace husk;
using namespace husk::init;

TEST(StatusWriteFor, Exit_GoesToExitCodeRegister)
{
    EXPECT_EQ(
        status_write_for(JobOutcome::exited(3)), (StatusWrite { status_port::base + status_port::job_exit_code, 3 }));
    EXPECT_EQ(status_write_for(JobOutcome::exited(256 + 1)).value, 1u);
}

TEST(StatusWriteFor, Signal_GoesToSignalRegister)
{
    EXPECT_EQ(status_write_for(JobOutcome::signaled(SIGKILL)),
        (StatusWrite { status_port::base + status_port::job_signal, SIGKILL }));
}

TEST(StatusWriteFor, SpawnError_GoesToSpawnErrorRegister)
{
    auto write = status_write_for(JobOutcome::spawn_failed(status_port::SpawnError::NotExecutable));
    EXPECT_EQ(write.port, status_port::base + status_port::job_spawn_error);
    EXPECT_EQ(write.value, static_cast<uint32_t>(status_port::SpawnError::NotExecutable));
}

TEST(StatusWriteFor, EveryWrite_StaysInsideTheDeviceRange)
{
    for (auto outcome :
        { JobOutcome::exited(0), JobOutcome::signaled(64), JobOutcome::spawn_failed(status_port::SpawnError::Other) }) {
        auto write = status_write_for(outcome);
        EXPECT_GE(write.port, status_port::base);
        EXPECT_LE(write.port + sizeof(uint32_t), status_port::base + status_port::length);
    }
}

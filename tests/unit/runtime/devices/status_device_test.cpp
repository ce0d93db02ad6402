// StatusDevice: each register of the status port ABI, every kind of invalid write, first status wins.
#include "runtime/devices/status_device.hpp"

#include <array>
#include <functional>
#include <gtest/gtest.h>

using namespace husk;
namespace sp = husk::status_port;

namespace {
void outb(StatusDevice& device, uint64_t offset, uint8_t value) { device.write(offset, std::span(&value, 1)); }

void outl(StatusDevice& device, uint64_t offset, uint32_t value)
{
    std::array<uint8_t, 4> bytes { static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
        static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24) };
    device.write(offset, bytes);
}
} // namespace

TEST(StatusDevice, Initially_ReportsNothing)
{
    StatusDevice device({});
    auto status = device.status();
    EXPECT_FALSE(status.boot_marker_time);
    EXPECT_FALSE(status.exit_code);
    EXPECT_FALSE(status.signal);
    EXPECT_FALSE(status.spawn_error);
    EXPECT_FALSE(status.shutdown_intent);
    EXPECT_EQ(status.invalid_writes, 0u);
}

// A one-time marker: `write` records it with the time of the write and calls its callback (which
// counts in `calls`) once; a repeat is invalid and changes nothing.
using MarkerTime = std::optional<std::chrono::steady_clock::time_point> GuestStatus::*;
void expect_recorded_once(StatusDevice& device, std::function<void()> const& write, MarkerTime time, int const& calls)
{
    auto before = std::chrono::steady_clock::now();
    write();
    auto after = std::chrono::steady_clock::now();

    auto status = device.status();
    ASSERT_TRUE(status.*time);
    EXPECT_GE(*(status.*time), before);
    EXPECT_LE(*(status.*time), after);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(status.invalid_writes, 0u);

    write();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(device.status().*time, status.*time);
    EXPECT_EQ(device.status().invalid_writes, 1u);
}

TEST(StatusDevice, BootMarker_RecordsTimeAndCallsBackOnce)
{
    int calls = 0;
    StatusDevice device([&calls] { ++calls; });
    expect_recorded_once(
        device, [&] { outb(device, sp::boot_marker, sp::boot_marker_value); }, &GuestStatus::boot_marker_time, calls);
}

TEST(StatusDevice, AgentListening_RecordsTimeAndCallsBackOnce)
{
    int boot_calls = 0;
    int agent_calls = 0;
    StatusDevice device([&boot_calls] { ++boot_calls; }, [&agent_calls] { ++agent_calls; });
    outb(device, sp::boot_marker, sp::boot_marker_value);
    expect_recorded_once(
        device, [&] { outl(device, sp::agent_listening, sp::agent_listening_value); },
        &GuestStatus::agent_listening_time, agent_calls);
    EXPECT_EQ(boot_calls, 1);
}

TEST(StatusDevice, AgentListeningBeforeTheBootMarker_IsTakenAsItComes)
{
    // A hostile or odd guest may write it first: it only ends the host's hold of its connects.
    int agent_calls = 0;
    StatusDevice device({}, [&agent_calls] { ++agent_calls; });
    outl(device, sp::agent_listening, sp::agent_listening_value);

    EXPECT_EQ(agent_calls, 1);
    EXPECT_TRUE(device.status().agent_listening_time);
    EXPECT_FALSE(device.status().boot_marker_time);
}

TEST(StatusDevice, AgentListeningWithoutACallback_IsRecorded)
{
    StatusDevice device({});
    outl(device, sp::agent_listening, sp::agent_listening_value);
    EXPECT_TRUE(device.status().agent_listening_time);
}

TEST(StatusDevice, ExitCode_IsRecorded)
{
    StatusDevice device({});
    outl(device, sp::job_exit_code, 255);
    EXPECT_EQ(device.status().exit_code, 255);
    EXPECT_EQ(device.status().invalid_writes, 0u);
}

TEST(StatusDevice, ExitCodeZero_IsRecorded)
{
    StatusDevice device({});
    outl(device, sp::job_exit_code, 0);
    EXPECT_EQ(device.status().exit_code, 0);
}

TEST(StatusDevice, Signal_IsRecorded)
{
    StatusDevice device({});
    outl(device, sp::job_signal, 9);
    EXPECT_EQ(device.status().signal, 9);
    EXPECT_FALSE(device.status().exit_code);
}

TEST(StatusDevice, SpawnError_IsRecorded)
{
    StatusDevice device({});
    outl(device, sp::job_spawn_error, static_cast<uint32_t>(sp::SpawnError::NotFound));
    EXPECT_EQ(device.status().spawn_error, sp::SpawnError::NotFound);
}

TEST(StatusDevice, ShutdownIntent_IsRecordedAndRepeatable)
{
    StatusDevice device({});
    outl(device, sp::shutdown_intent, sp::shutdown_intent_value);
    outl(device, sp::shutdown_intent, sp::shutdown_intent_value);
    EXPECT_TRUE(device.status().shutdown_intent);
    EXPECT_EQ(device.status().invalid_writes, 0u);
}

TEST(StatusDevice, JobStatusAndShutdownIntent_RecordTheirFirstTime)
{
    StatusDevice device({});
    auto before = std::chrono::steady_clock::now();
    outl(device, sp::job_exit_code, 256); // invalid: no time
    EXPECT_FALSE(device.status().job_status_time);
    outl(device, sp::job_exit_code, 0);
    auto job_time = device.status().job_status_time;
    ASSERT_TRUE(job_time);
    EXPECT_GE(*job_time, before);
    outl(device, sp::job_exit_code, 1); // refused repeat: the first time stays
    EXPECT_EQ(device.status().job_status_time, job_time);

    EXPECT_FALSE(device.status().shutdown_intent_time);
    outl(device, sp::shutdown_intent, sp::shutdown_intent_value);
    auto intent_time = device.status().shutdown_intent_time;
    ASSERT_TRUE(intent_time);
    EXPECT_GE(*intent_time, *job_time);
    outl(device, sp::shutdown_intent, sp::shutdown_intent_value);
    EXPECT_EQ(device.status().shutdown_intent_time, intent_time);
}

TEST(StatusDevice, FirstJobStatus_Wins)
{
    StatusDevice device({});
    outl(device, sp::job_exit_code, 3);
    outl(device, sp::job_exit_code, 4);
    outl(device, sp::job_signal, 9);
    outl(device, sp::job_spawn_error, static_cast<uint32_t>(sp::SpawnError::Other));

    auto status = device.status();
    EXPECT_EQ(status.exit_code, 3);
    EXPECT_FALSE(status.signal);
    EXPECT_FALSE(status.spawn_error);
    EXPECT_EQ(status.invalid_writes, 3u);
}

TEST(StatusDevice, InvalidJobStatus_DoesNotBlockAValidOne)
{
    StatusDevice device({});
    outl(device, sp::job_signal, 0);
    outl(device, sp::job_signal, 15);
    EXPECT_EQ(device.status().signal, 15);
    EXPECT_EQ(device.status().invalid_writes, 1u);
}

TEST(StatusDevice, EveryInvalidWrite_IsCountedAndIgnored)
{
    int calls = 0;
    StatusDevice device([&calls] { ++calls; }, [&calls] { ++calls; });
    outb(device, sp::boot_marker, sp::boot_marker_value + 1); // wrong value
    outl(device, sp::boot_marker, sp::boot_marker_value); // wrong width
    outl(device, sp::job_exit_code, 256); // out of range
    outl(device, sp::job_exit_code, UINT32_MAX);
    outb(device, sp::job_exit_code, 1); // wrong width
    outl(device, sp::job_signal, 0);
    outl(device, sp::job_signal, 65);
    outl(device, sp::job_spawn_error, 0); // unknown spawn errors
    outl(device, sp::job_spawn_error, sp::spawn_error_max + 1);
    outl(device, sp::shutdown_intent, 1); // wrong magic
    std::array<uint8_t, 2> half { 0x48, 0x53 };
    device.write(sp::shutdown_intent, half); // wrong width
    outl(device, 0x05, 0); // unaligned: unknown offset
    outl(device, sp::agent_listening, 0); // wrong magic
    outb(device, sp::agent_listening, 0x4e); // wrong width
    outl(device, 0x18, 0); // unknown offset
    outb(device, sp::length - 1, 0);
    device.write(sp::job_exit_code, std::span<uint8_t const> {}); // empty

    auto status = device.status();
    EXPECT_EQ(status.invalid_writes, 17u);
    EXPECT_FALSE(status.boot_marker_time);
    EXPECT_FALSE(status.agent_listening_time);
    EXPECT_FALSE(status.exit_code);
    EXPECT_FALSE(status.signal);
    EXPECT_FALSE(status.spawn_error);
    EXPECT_FALSE(status.shutdown_intent);
    EXPECT_EQ(calls, 0);
}

TEST(StatusDevice, ManyInvalidWrites_AreAllCounted)
{
    StatusDevice device({});
    for (int i = 0; i < 1000; ++i)
        outl(device, sp::job_signal, 1000);
    EXPECT_EQ(device.status().invalid_writes, 1000u);
}

TEST(StatusDevice, Reads_ReturnZero)
{
    StatusDevice device({});
    outl(device, sp::job_exit_code, 7);
    std::array<uint8_t, 4> value { 1, 2, 3, 4 };
    device.read(sp::job_exit_code, value);
    EXPECT_EQ(value, (std::array<uint8_t, 4> {}));
}

// I8042 and ResetPort: the reset paths Linux uses for reboot=k and reboot=pci/cf9.
#include "runtime/devices/i8042.hpp"

#include <array>
#include <gtest/gtest.h>

using namespace husk;

namespace {
uint8_t read_byte(BusDevice& device, uint64_t offset)
{
    uint8_t value = 0xaa;
    device.read(offset, std::span(&value, 1));
    return value;
}

void write_byte(BusDevice& device, uint64_t offset, uint8_t value) { device.write(offset, std::span(&value, 1)); }
} // namespace

TEST(I8042, PulseResetCommand_CallsOnResetExactlyOnce)
{
    int resets = 0;
    I8042 controller([&resets] { ++resets; });
    write_byte(controller, I8042::command_offset, I8042::command_pulse_reset);
    EXPECT_EQ(resets, 1);
    write_byte(controller, I8042::command_offset, I8042::command_pulse_reset); // Linux retries
    EXPECT_EQ(resets, 2);
}

TEST(I8042, OtherCommands_DoNotReset)
{
    int resets = 0;
    I8042 controller([&resets] { ++resets; });
    for (int command = 0; command < 0x100; ++command) {
        if (command != I8042::command_pulse_reset)
            write_byte(controller, I8042::command_offset, static_cast<uint8_t>(command));
    }
    EXPECT_EQ(resets, 0);
}

TEST(I8042, PulseResetValueOnDataPort_DoesNotReset)
{
    int resets = 0;
    I8042 controller([&resets] { ++resets; });
    write_byte(controller, I8042::data_offset, I8042::command_pulse_reset);
    write_byte(controller, 1, I8042::command_pulse_reset); // port 0x61
    EXPECT_EQ(resets, 0);
}

TEST(I8042, WideWriteReachingCommandPort_ResetsOnce)
{
    int resets = 0;
    I8042 controller([&resets] { ++resets; });
    std::array<uint8_t const, 2> value { 0x00, I8042::command_pulse_reset }; // offsets 3 and 4
    controller.write(3, value);
    EXPECT_EQ(resets, 1);
}

TEST(I8042, EmptyCallback_IgnoresReset)
{
    I8042 controller({});
    write_byte(controller, I8042::command_offset, I8042::command_pulse_reset); // must not crash
    SUCCEED();
}

TEST(I8042, Status_ReportsEmptyBuffersAndDataReadsZero)
{
    I8042 controller({});
    uint8_t status = read_byte(controller, I8042::command_offset);
    EXPECT_EQ(status & 0x03, 0); // output buffer full (bit 0) and input buffer full (bit 1) clear
    EXPECT_EQ(status, I8042::idle_status);
    EXPECT_EQ(read_byte(controller, I8042::data_offset), 0);
}

TEST(ResetPort, WriteWithResetBit_CallsOnReset)
{
    int resets = 0;
    ResetPort port([&resets] { ++resets; });
    // Linux reboot=pci: reads the register, writes it with bit 1 (hard reset), then bits 1|2.
    uint8_t value = read_byte(port, 0) & ~(ResetPort::reset_cpu | ResetPort::system_reset);
    write_byte(port, 0, value | ResetPort::system_reset);
    EXPECT_EQ(resets, 0);
    EXPECT_EQ(read_byte(port, 0), ResetPort::system_reset);
    write_byte(port, 0, value | ResetPort::system_reset | ResetPort::reset_cpu);
    EXPECT_EQ(resets, 1);
    EXPECT_EQ(read_byte(port, 0), ResetPort::system_reset); // the reset bit does not stick
}

TEST(ResetPort, WriteWithoutResetBit_DoesNothing)
{
    int resets = 0;
    ResetPort port([&resets] { ++resets; });
    for (int value = 0; value < 0x100; ++value) {
        if (!(value & ResetPort::reset_cpu))
            write_byte(port, 0, static_cast<uint8_t>(value));
    }
    EXPECT_EQ(resets, 0);
}

namespace {
uint8_t read_port(husk::I8042& device, uint64_t offset)
{
    uint8_t value = 0xee;
    device.read(offset, std::span(&value, 1));
    return value;
}
void write_port(husk::I8042& device, uint64_t offset, uint8_t value) { device.write(offset, std::span(&value, 1)); }
} // namespace

TEST(I8042Controller, ReadCtr_AnswersThroughTheOutputBuffer)
{
    husk::I8042 device({});
    write_port(device, husk::I8042::command_offset, husk::I8042::command_read_ctr);
    EXPECT_TRUE(read_port(device, husk::I8042::command_offset) & husk::I8042::status_output_full);
    EXPECT_EQ(read_port(device, husk::I8042::data_offset), husk::I8042::initial_ctr);
    EXPECT_FALSE(read_port(device, husk::I8042::command_offset) & husk::I8042::status_output_full);
}

TEST(I8042Controller, WriteCtrThenRead_ReturnsTheWrittenValue)
{
    husk::I8042 device({});
    write_port(device, husk::I8042::command_offset, husk::I8042::command_write_ctr);
    write_port(device, husk::I8042::data_offset, 0x45);
    write_port(device, husk::I8042::command_offset, husk::I8042::command_read_ctr);
    EXPECT_EQ(read_port(device, husk::I8042::data_offset), 0x45);
}

TEST(I8042Controller, SelfTest_Answers0x55AndNoReset)
{
    int resets = 0;
    husk::I8042 device([&] { ++resets; });
    write_port(device, husk::I8042::command_offset, husk::I8042::command_self_test);
    EXPECT_EQ(read_port(device, husk::I8042::data_offset), husk::I8042::self_test_passed);
    EXPECT_EQ(resets, 0);
}

TEST(I8042Controller, DataPortWithoutAnswer_ReadsZeroAndStatusIdle)
{
    husk::I8042 device({});
    EXPECT_EQ(read_port(device, husk::I8042::data_offset), 0);
    EXPECT_EQ(read_port(device, husk::I8042::command_offset), husk::I8042::idle_status);
}

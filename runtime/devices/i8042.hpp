// I8042 and ResetPort: the two legacy ways a PC guest asks for a reset. Linux reboots through
// the keyboard controller with `reboot=k` (its default on many machines) and through the PCI
// reset control register with `reboot=pci` / `reboot=cf9`. Neither models more than that.
#pragma once

#include "runtime/devices/bus.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace husk {

// The controller's state, for snapshots.
struct I8042State {
    uint8_t ctr { 0x01 };
    std::optional<uint8_t> output;
    bool expect_ctr { false };
};

// Just enough of the PC keyboard controller: no keyboard, no mouse, no controller RAM.
class I8042 final : public BusDevice {
public:
    static constexpr uint64_t port_base = 0x60;
    static constexpr uint64_t port_length = 5;
    static constexpr uint64_t data_offset = 0; // port 0x60
    static constexpr uint64_t command_offset = 4; // port 0x64: write command, read status

    static constexpr uint8_t command_pulse_reset = 0xfe; // pulse output line 0 (CPU reset) low
    static constexpr uint8_t command_read_ctr = 0x20;    // answer: the controller configuration byte
    static constexpr uint8_t command_write_ctr = 0x60;   // the next data byte is the new CTR
    static constexpr uint8_t command_self_test = 0xaa;   // answer: self_test_passed
    static constexpr uint8_t command_disable_kbd = 0xad;
    static constexpr uint8_t command_enable_kbd = 0xae;
    static constexpr uint8_t self_test_passed = 0x55;
    static constexpr uint8_t ctr_kbd_disabled = 0x10;
    static constexpr uint8_t initial_ctr = 0x01; // keyboard interrupt on, as firmware leaves it
    // Status: self-test passed (system flag), input buffer always empty (commands complete at
    // once, so kb_wait() ends at once), output buffer full only while an answer waits.
    static constexpr uint8_t status_output_full = 0x01;
    static constexpr uint8_t status_system_flag = 0x04;
    static constexpr uint8_t idle_status = status_system_flag;

    // on_reset is called from the writing vCPU's thread, once per 0xfe command write (Linux
    // retries the command up to ten times until the reset lands). Empty means ignore resets.
    explicit I8042(std::function<void()> on_reset);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<uint8_t const> data) override;

    I8042State save_state();
    void restore_state(I8042State const& state);

private:
    // Runs a controller command under m_mutex; true when it asks for a CPU reset.
    bool handle_command(uint8_t command);

    std::function<void()> const m_on_reset; // never changes, so no lock is needed
    // Answers the commands Linux's i8042 probe sends; without them it waits ~2 s for a CTR.
    std::mutex m_mutex;
    uint8_t m_ctr { initial_ctr };
    std::optional<uint8_t> m_output;
    bool m_expect_ctr { false };
};

// The reset control register at port 0xcf9 (Intel PCH/PIIX). Bit 2 starts the reset; bit 1
// selects hard over soft reset and is kept for read-back, as Linux reads then writes the register.
class ResetPort final : public BusDevice {
public:
    static constexpr uint64_t port_base = 0xcf9;
    static constexpr uint64_t port_length = 1;
    static constexpr uint8_t reset_cpu = 0x04;
    static constexpr uint8_t system_reset = 0x02;
    static constexpr uint8_t full_reset = 0x08;
    static constexpr uint8_t readable_bits = system_reset | full_reset;

    // on_reset is called from the writing vCPU's thread once per write with reset_cpu set.
    explicit ResetPort(std::function<void()> on_reset);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<uint8_t const> data) override;

private:
    std::function<void()> const m_on_reset;
    std::atomic<uint8_t> m_value { 0 };
};

} // namespace husk

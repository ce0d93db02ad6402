// I8042 and ResetPort: stateless apart from ResetPort's read-back bits; the reset callback runs
// outside any lock so it may stop vCPUs or tear the machine down.
#include "runtime/devices/i8042.hpp"

#include <algorithm>

namespace husk {

I8042::I8042(std::function<void()> on_reset)
    : m_on_reset(std::move(on_reset))
{
}

I8042State I8042::save_state()
{
    std::lock_guard lock(m_mutex);
    return { m_ctr, m_output, m_expect_ctr };
}

void I8042::restore_state(I8042State const& state)
{
    std::lock_guard lock(m_mutex);
    m_ctr = state.ctr;
    m_output = state.output;
    m_expect_ctr = state.expect_ctr;
}

void I8042::read(uint64_t offset, std::span<uint8_t> data)
{
    // Byte by byte, as the PC bus splits wide accesses to this 8-bit device. The unmodelled
    // ports in between (0x61 system control included) read as 0.
    std::lock_guard lock(m_mutex);
    for (size_t i = 0; i < data.size(); ++i) {
        if (offset + i == command_offset) {
            data[i] = idle_status | (m_output ? status_output_full : 0);
        } else if (offset + i == data_offset) {
            data[i] = m_output.value_or(0);
            m_output.reset();
        } else {
            data[i] = 0;
        }
    }
}

void I8042::write(uint64_t offset, std::span<uint8_t const> data)
{
    bool reset = false;
    {
        std::lock_guard lock(m_mutex);
        for (size_t i = 0; i < data.size(); ++i) {
            if (offset + i == data_offset && m_expect_ctr) {
                m_ctr = data[i];
                m_expect_ctr = false;
            } else if (offset + i == command_offset) {
                reset |= handle_command(data[i]);
            }
            // Other data bytes (keyboard commands) are accepted and ignored: there is no keyboard.
        }
    }
    // A write reaches the command port at most once, so this fires at most once per write.
    if (reset && m_on_reset)
        m_on_reset();
}

bool I8042::handle_command(uint8_t command)
{
    switch (command) {
    case command_pulse_reset:
        return true;
    case command_read_ctr:
        m_output = m_ctr;
        break;
    case command_write_ctr:
        m_expect_ctr = true;
        break;
    case command_self_test:
        m_output = self_test_passed;
        break;
    case command_disable_kbd:
        m_ctr |= ctr_kbd_disabled;
        break;
    case command_enable_kbd:
        m_ctr &= static_cast<uint8_t>(~ctr_kbd_disabled);
        break;
    default:
        break; // accepted and ignored
    }
    return false;
}

ResetPort::ResetPort(std::function<void()> on_reset)
    : m_on_reset(std::move(on_reset))
{
}

void ResetPort::read(uint64_t offset, std::span<uint8_t> data)
{
    std::fill(data.begin(), data.end(), uint8_t { 0 });
    if (offset == 0 && !data.empty())
        data[0] = m_value.load(std::memory_order_relaxed);
}

void ResetPort::write(uint64_t offset, std::span<uint8_t const> data)
{
    if (offset != 0 || data.empty())
        return;
    uint8_t value = data[0];
    // The reset bit is self-clearing on hardware: remember only the mode bits.
    m_value.store(value & readable_bits, std::memory_order_relaxed);
    if ((value & reset_cpu) && m_on_reset)
        m_on_reset();
}

} // namespace husk

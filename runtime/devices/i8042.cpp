// I8042 and ResetPort: stateless apart from ResetPort's read-back bits; the reset callback runs
// outside any lock so it may stop vCPUs or tear the machine down.
#include "runtime/devices/i8042.hpp"

#include <algorithm>

namespace husk {

I8042::I8042(std::function<void()> on_reset)
    : m_on_reset(std::move(on_reset))
{
}

void I8042::read(uint64_t offset, std::span<uint8_t> data)
{
    // Byte by byte, as the PC bus splits wide accesses to this 8-bit device. The data port and
    // the unmodelled ports in between (0x61 system control included) read as 0.
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i == command_offset ? idle_status : 0;
}

void I8042::write(uint64_t offset, std::span<uint8_t const> data)
{
    // A write reaches the command port at most once, so this fires at most once per write.
    if (command_offset < offset || command_offset - offset >= data.size())
        return;
    if (data[command_offset - offset] == command_pulse_reset && m_on_reset)
        m_on_reset();
    // Every other command (and every data byte) is accepted and ignored.
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

// Serial: 16550A register semantics. The interrupt line is an edge on an irqfd: we signal when a
// new enabled source becomes pending, on every THR write with THRE interrupts enabled (on real
// hardware each write drops and re-raises THRE) and on every arrival of host input, so a lost edge
// can never wedge the guest's input.
#include "runtime/devices/serial.hpp"

#include "runtime/base/log.hpp"

#include <fcntl.h>
#include <string>

namespace husk {

using namespace uart;

namespace {
// Modem inputs reported outside loopback: a terminal that is always present and ready.
constexpr uint8_t connected_modem_inputs = msr_dcd | msr_dsr | msr_cts;
} // namespace

bool Serial::ReceiveFifo::push(uint8_t byte)
{
    if (m_count == m_bytes.size())
        return false;
    m_bytes[(m_head + m_count) % m_bytes.size()] = byte;
    ++m_count;
    return true;
}

uint8_t Serial::ReceiveFifo::pop()
{
    if (m_count == 0)
        return 0;
    uint8_t byte = m_bytes[m_head];
    m_head = (m_head + 1) % m_bytes.size();
    --m_count;
    return byte;
}

Result<std::shared_ptr<Serial>> Serial::create(int output_fd, EventFd const* interrupt, uint64_t output_limit)
{
    if (output_fd < -1)
        return fail("serial: invalid output fd " + std::to_string(output_fd));
    if (output_fd >= 0) {
        int flags = ::fcntl(output_fd, F_GETFL);
        if (flags < 0)
            return fail_errno("serial: output fd " + std::to_string(output_fd));
        if ((flags & O_ACCMODE) == O_RDONLY)
            return fail("serial: output fd " + std::to_string(output_fd) + " is not open for writing");
    }
    return std::shared_ptr<Serial>(new Serial(output_fd, interrupt, output_limit));
}

Serial::Serial(int output_fd, EventFd const* interrupt, uint64_t output_limit)
    : m_output_fd(output_fd)
    , m_interrupt(interrupt)
    , m_output_limit(output_limit)
{
}

SerialState Serial::save_state() const
{
    std::lock_guard state(m_lock);
    return { m_interrupt_enable, m_line_control, m_modem_control, m_scratch, m_divisor_low, m_divisor_high,
        m_modem_status_deltas, m_fifo_enabled, m_thr_empty_pending, m_overrun };
}

void Serial::restore_state(SerialState const& saved)
{
    std::lock_guard state(m_lock);
    m_interrupt_enable = saved.interrupt_enable;
    m_line_control = saved.line_control;
    m_modem_control = saved.modem_control;
    m_scratch = saved.scratch;
    m_divisor_low = saved.divisor_low;
    m_divisor_high = saved.divisor_high;
    m_modem_status_deltas = saved.modem_status_deltas;
    m_fifo_enabled = saved.fifo_enabled;
    m_thr_empty_pending = saved.thr_empty_pending;
    m_overrun = saved.overrun;
    m_receive.clear();
}

void Serial::read(uint64_t offset, std::span<uint8_t> data)
{
    std::lock_guard state(m_lock);
    // Wider accesses reach consecutive registers, as the PC's bus splits them for 8-bit devices.
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i < register_count ? read_register(offset + i) : 0;
}

void Serial::write(uint64_t offset, std::span<uint8_t const> data)
{
    WriteEffects effects;
    std::unique_lock state(m_lock);
    uint8_t pending_before = pending_sources();
    for (size_t i = 0; i < data.size() && offset + i < register_count; ++i)
        write_register(offset + i, data[i], effects);
    if (pending_sources() & ~pending_before)
        effects.raise_interrupt = true;

    if (effects.output_size > 0) {
        std::lock_guard output(m_output_lock);
        state.unlock();
        emit_output(std::span(effects.output).first(effects.output_size));
    } else {
        state.unlock();
    }
    if (effects.raise_interrupt)
        raise_interrupt();
}

void Serial::enqueue_input(std::span<uint8_t const> bytes)
{
    bool raise = false;
    {
        std::lock_guard state(m_lock);
        uint8_t pending_before = pending_sources();
        size_t accepted = 0;
        for (uint8_t byte : bytes) {
            if (!m_receive.push(byte))
                break;
            ++accepted;
        }
        if (accepted < bytes.size()) {
            m_dropped_input.fetch_add(bytes.size() - accepted, std::memory_order_relaxed);
            m_overrun = true; // what a real UART reports when its FIFO overflows
        }
        raise
            = (pending_sources() & ~pending_before) != 0 || (accepted > 0 && (m_interrupt_enable & ier_received_data));
    }
    if (raise)
        raise_interrupt();
}

size_t Serial::input_room() const
{
    std::lock_guard state(m_lock);
    return input_capacity - m_receive.size();
}

uint8_t Serial::read_register(uint64_t offset)
{
    bool divisor_latch = m_line_control & lcr_divisor_latch;
    switch (offset) {
    case data:
        if (divisor_latch)
            return m_divisor_low;
        return m_receive.pop();
    case interrupt_enable:
        return divisor_latch ? m_divisor_high : m_interrupt_enable;
    case interrupt_id: {
        uint8_t id = interrupt_identification();
        // Reading IIR acknowledges a THRE interrupt when it is the one reported (PC16550D, table 4).
        if (id == iir_thr_empty)
            m_thr_empty_pending = false;
        return id | (m_fifo_enabled ? iir_fifo_enabled : 0);
    }
    case line_control:
        return m_line_control;
    case modem_control:
        return m_modem_control;
    case line_status: {
        uint8_t status = lsr_thr_empty | lsr_transmitter_empty;
        if (!m_receive.empty())
            status |= lsr_data_ready;
        if (m_overrun)
            status |= lsr_overrun;
        m_overrun = false; // error bits clear on read
        return status;
    }
    case modem_status: {
        uint8_t status = modem_inputs() | m_modem_status_deltas;
        m_modem_status_deltas = 0;
        return status;
    }
    case scratch:
        return m_scratch;
    default:
        return 0;
    }
}

void Serial::write_register(uint64_t offset, uint8_t value, WriteEffects& effects)
{
    bool divisor_latch = m_line_control & lcr_divisor_latch;
    switch (offset) {
    case data:
        if (divisor_latch) {
            m_divisor_low = value;
            return;
        }
        if (m_modem_control & mcr_loopback) {
            // Loopback keeps the byte on the chip: it comes back through the receiver, whose
            // hardware FIFO holds 16 bytes (the Linux driver sizes the FIFO this way).
            if (m_receive.size() >= hardware_fifo_depth || !m_receive.push(value))
                m_overrun = true;
        } else {
            effects.output[effects.output_size++] = value;
        }
        // Sent synchronously, so THR is empty again at once and THRE re-asserts.
        m_thr_empty_pending = true;
        if (m_interrupt_enable & ier_thr_empty)
            effects.raise_interrupt = true;
        return;
    case interrupt_enable: {
        if (divisor_latch) {
            m_divisor_high = value;
            return;
        }
        uint8_t previous = m_interrupt_enable;
        m_interrupt_enable = value & ier_mask;
        // Enabling THRE interrupts with an empty transmitter asserts one at once; Linux checks
        // this at startup (the UART_BUG_TXEN and UART_BUG_THRE tests) and polls a UART without it.
        if ((m_interrupt_enable & ier_thr_empty) && !(previous & ier_thr_empty))
            m_thr_empty_pending = true;
        return;
    }
    case fifo_control: {
        bool enable = value & fcr_enable_fifo;
        // Toggling the FIFO mode resets the FIFOs; other FCR bits only act with FCR0 set.
        if (enable != m_fifo_enabled || (enable && (value & fcr_clear_receive)))
            m_receive.clear();
        m_fifo_enabled = enable;
        return;
    }
    case line_control:
        m_line_control = value;
        return;
    case modem_control:
        write_modem_control(value);
        return;
    case scratch:
        m_scratch = value;
        return;
    default:
        return; // LSR and MSR are read-only (their factory-test writes are not emulated)
    }
}

void Serial::write_modem_control(uint8_t value)
{
    uint8_t before = modem_inputs();
    m_modem_control = value & mcr_mask;
    uint8_t after = modem_inputs();
    uint8_t changed = before ^ after;
    if (changed & msr_cts)
        m_modem_status_deltas |= msr_delta_cts;
    if (changed & msr_dsr)
        m_modem_status_deltas |= msr_delta_dsr;
    if ((before & msr_ri) && !(after & msr_ri))
        m_modem_status_deltas |= msr_trailing_edge_ri;
    if (changed & msr_dcd)
        m_modem_status_deltas |= msr_delta_dcd;
}

uint8_t Serial::modem_inputs() const
{
    if (!(m_modem_control & mcr_loopback))
        return connected_modem_inputs;
    // Loopback wiring (PC16550D): DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD. Linux's probe sets
    // RTS|OUT2 in loopback and expects exactly CTS|DCD in the MSR's top nibble.
    uint8_t inputs = 0;
    if (m_modem_control & mcr_dtr)
        inputs |= msr_dsr;
    if (m_modem_control & mcr_rts)
        inputs |= msr_cts;
    if (m_modem_control & mcr_out1)
        inputs |= msr_ri;
    if (m_modem_control & mcr_out2)
        inputs |= msr_dcd;
    return inputs;
}

uint8_t Serial::pending_sources() const
{
    uint8_t pending = 0;
    if (m_overrun)
        pending |= ier_line_status;
    if (!m_receive.empty())
        pending |= ier_received_data;
    if (m_thr_empty_pending)
        pending |= ier_thr_empty;
    if (m_modem_status_deltas)
        pending |= ier_modem_status;
    return pending & m_interrupt_enable;
}

uint8_t Serial::interrupt_identification() const
{
    uint8_t pending = pending_sources();
    if (pending & ier_line_status)
        return iir_line_status;
    if (pending & ier_received_data)
        return iir_received_data;
    if (pending & ier_thr_empty)
        return iir_thr_empty;
    if (pending & ier_modem_status)
        return iir_modem_status;
    return iir_no_interrupt;
}

void Serial::emit_output(std::span<uint8_t const> bytes)
{
    if (m_output_fd < 0)
        return; // discarding was asked for
    if (!m_output_enabled) {
        m_dropped_output.fetch_add(bytes.size(), std::memory_order_relaxed);
        return;
    }
    if (m_output_written + bytes.size() > m_output_limit) {
        m_output_enabled = false;
        m_dropped_output.fetch_add(bytes.size(), std::memory_order_relaxed);
        std::string notice = "\n[husk: the guest's console output reached its limit of "
            + std::to_string(m_output_limit) + " bytes; the rest is dropped]\n";
        (void)write_all(m_output_fd, notice.data(), notice.size());
        log_warn("serial: console output limit of " + std::to_string(m_output_limit)
            + " bytes reached; dropping all further output");
        return;
    }
    auto written = write_all(m_output_fd, bytes.data(), bytes.size());
    if (written) {
        m_output_written += bytes.size();
        return;
    }
    m_dropped_output.fetch_add(bytes.size(), std::memory_order_relaxed);
    int error = written.error().errno_value;
    bool stalled = error == EAGAIN || error == EWOULDBLOCK;
    // A full non-blocking pipe is transient: drop these bytes, keep trying. Anything else
    // (EPIPE, EIO, ...) will not heal: stop writing so the guest never pays for it again.
    if (!stalled) {
        m_output_enabled = false; // so this logs once
        log_warn("serial: output " + written.error().message + "; discarding all further output");
    } else if (!m_output_stall_logged) {
        m_output_stall_logged = true;
        log_warn("serial: output " + written.error().message + "; dropping output while the reader is slow");
    }
}

void Serial::raise_interrupt()
{
    if (!m_interrupt)
        return;
    auto signalled = m_interrupt->signal();
    if (!signalled && !m_interrupt_failure_logged.exchange(true))
        log_warn("serial: cannot raise interrupt: " + signalled.error().message);
}

} // namespace husk

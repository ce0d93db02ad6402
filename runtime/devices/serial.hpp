// Serial: a 16550A-compatible UART for the guest's 8250 driver (COM1: port 0x3f8, IRQ 4).
// Transmission is synchronous: each THR byte goes straight to the output fd, so the transmitter
// is always empty. Input comes from the VMM's event thread through enqueue_input().
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/devices/uart_registers.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

namespace husk {

// The guest-visible register state of the UART, for snapshots. Host input still waiting in the
// receive FIFO is not kept: it belongs to the console of the process that took the snapshot.
struct SerialState {
    uint8_t interrupt_enable { 0 };
    uint8_t line_control { 0 };
    uint8_t modem_control { 0 };
    uint8_t scratch { 0 };
    uint8_t divisor_low { 12 };
    uint8_t divisor_high { 0 };
    uint8_t modem_status_deltas { 0 };
    bool fifo_enabled { false };
    bool thr_empty_pending { false };
    bool overrun { false };
};

class Serial final : public BusDevice {
public:
    // Host input waiting for the guest beyond this is dropped (and counted).
    static constexpr size_t input_capacity = 4096;

    // output_fd: where guest output goes, or -1 to discard it. Not owned; it must stay open for
    // the Serial's lifetime. The Serial never changes its flags: pass a non-blocking fd so a
    // stalled reader drops output (counted) instead of stalling the guest's vCPU. A pipe whose
    // reader is gone raises SIGPIPE, which husk-vmm must ignore; the write then fails with EPIPE
    // and output is disabled with one log line.
    // interrupt: the irqfd of IRQ 4 (writing it injects an edge), or null for a polled UART. Not
    // owned; it must outlive the Serial.
    // output_limit: the guest writes at most this many bytes to output_fd (it is often a file on
    // the host); then a one-line notice and nothing more, the rest counted as dropped.
    static constexpr uint64_t default_output_limit = 64ull << 20;
    static Result<std::shared_ptr<Serial>> create(
        int output_fd, EventFd const* interrupt, uint64_t output_limit = default_output_limit);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<uint8_t const> data) override;

    // Queues host input for the guest (the VMM's console reader calls this). Bytes beyond
    // input_capacity are dropped, counted and reported to the guest as an overrun.
    void enqueue_input(std::span<uint8_t const> bytes);
    // How many bytes enqueue_input() can take now without dropping: lets the caller apply
    // backpressure to its source instead of losing input.
    size_t input_room() const;

    SerialState save_state() const;
    void restore_state(SerialState const& state);

    uint64_t dropped_input_bytes() const { return m_dropped_input.load(std::memory_order_relaxed); }
    uint64_t dropped_output_bytes() const { return m_dropped_output.load(std::memory_order_relaxed); }

private:
    Serial(int output_fd, EventFd const* interrupt, uint64_t output_limit);

    // A tiny fixed ring buffer: no allocation on the vCPU path.
    class ReceiveFifo {
    public:
        bool empty() const { return m_count == 0; }
        size_t size() const { return m_count; }
        bool push(uint8_t byte);
        uint8_t pop();
        void clear() { m_head = m_count = 0; }

    private:
        std::array<uint8_t, input_capacity> m_bytes {};
        size_t m_head { 0 };
        size_t m_count { 0 };
    };

    // Output produced while the state lock is held, emitted after it is released.
    struct WriteEffects {
        std::array<uint8_t, uart::register_count> output {};
        size_t output_size { 0 };
        bool raise_interrupt { false };
    };

    // All of these run with m_lock held.
    uint8_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint8_t value, WriteEffects& effects);
    void write_modem_control(uint8_t value);
    uint8_t pending_sources() const; // pending and enabled, as IER bits
    uint8_t interrupt_identification() const;
    uint8_t modem_inputs() const;

    void emit_output(std::span<uint8_t const> bytes); // runs with m_output_lock held
    void raise_interrupt();

    int const m_output_fd;
    EventFd const* const m_interrupt;
    uint64_t const m_output_limit;

    mutable std::mutex m_lock; // guards the register state below
    uint8_t m_interrupt_enable { 0 };
    uint8_t m_line_control { 0 };
    uint8_t m_modem_control { 0 };
    uint8_t m_scratch { 0 };
    uint8_t m_divisor_low { 12 }; // 9600 baud from the 1.8432 MHz PC clock; unused, kept for the guest
    uint8_t m_divisor_high { 0 };
    uint8_t m_modem_status_deltas { 0 };
    bool m_fifo_enabled { false };
    bool m_thr_empty_pending { false }; // THRE interrupt: set when THR empties, cleared by reading IIR
    bool m_overrun { false };
    ReceiveFifo m_receive;

    // Taken before m_lock is released so output keeps the order of THR writes, while host input
    // (which only needs m_lock) never waits for a slow output fd.
    std::mutex m_output_lock;
    bool m_output_enabled { true };
    bool m_output_stall_logged { false };
    uint64_t m_output_written { 0 };

    std::atomic<uint64_t> m_dropped_input { 0 };
    std::atomic<uint64_t> m_dropped_output { 0 };
    std::atomic<bool> m_interrupt_failure_logged { false };
};

} // namespace husk

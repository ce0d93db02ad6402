// 16550A UART register map (National Semiconductor PC16550D data sheet), as the Linux 8250
// driver uses it. Offsets are from the UART's I/O base.
#pragma once

#include <cstdint>

namespace husk::uart {

// The first PC serial port (COM1, ttyS0).
inline constexpr uint16_t com1_port = 0x3f8;
inline constexpr uint32_t com1_irq = 4;
inline constexpr uint64_t register_count = 8;

// Register offsets. With LCR.DLAB set, offsets 0 and 1 address the divisor latch instead.
inline constexpr uint64_t data = 0; // read RBR (receive buffer), write THR (transmit holding)
inline constexpr uint64_t divisor_low = 0; // DLL, when DLAB
inline constexpr uint64_t interrupt_enable = 1; // IER
inline constexpr uint64_t divisor_high = 1; // DLM, when DLAB
inline constexpr uint64_t interrupt_id = 2; // read IIR
inline constexpr uint64_t fifo_control = 2; // write FCR
inline constexpr uint64_t line_control = 3; // LCR
inline constexpr uint64_t modem_control = 4; // MCR
inline constexpr uint64_t line_status = 5; // LSR
inline constexpr uint64_t modem_status = 6; // MSR
inline constexpr uint64_t scratch = 7; // SCR

// IER: which sources may interrupt. Only the low nibble exists on a 16550A.
inline constexpr uint8_t ier_received_data = 0x01;
inline constexpr uint8_t ier_thr_empty = 0x02;
inline constexpr uint8_t ier_line_status = 0x04;
inline constexpr uint8_t ier_modem_status = 0x08;
inline constexpr uint8_t ier_mask = 0x0f;

// IIR: the highest-priority pending source, plus FIFO-enabled bits.
inline constexpr uint8_t iir_no_interrupt = 0x01;
inline constexpr uint8_t iir_modem_status = 0x00; // lowest priority
inline constexpr uint8_t iir_thr_empty = 0x02;
inline constexpr uint8_t iir_received_data = 0x04;
inline constexpr uint8_t iir_line_status = 0x06; // highest priority
inline constexpr uint8_t iir_fifo_enabled = 0xc0; // both bits set: a 16550A with working FIFOs

// FCR
inline constexpr uint8_t fcr_enable_fifo = 0x01;
inline constexpr uint8_t fcr_clear_receive = 0x02;
inline constexpr uint8_t fcr_clear_transmit = 0x04;

// LCR
inline constexpr uint8_t lcr_divisor_latch = 0x80; // DLAB

// MCR. In loopback mode the modem outputs feed the modem inputs (see Serial::modem_inputs).
inline constexpr uint8_t mcr_dtr = 0x01;
inline constexpr uint8_t mcr_rts = 0x02;
inline constexpr uint8_t mcr_out1 = 0x04;
inline constexpr uint8_t mcr_out2 = 0x08;
inline constexpr uint8_t mcr_loopback = 0x10;
inline constexpr uint8_t mcr_mask = 0x1f;

// LSR
inline constexpr uint8_t lsr_data_ready = 0x01;
inline constexpr uint8_t lsr_overrun = 0x02;
inline constexpr uint8_t lsr_thr_empty = 0x20;
inline constexpr uint8_t lsr_transmitter_empty = 0x40;

// MSR: deltas in the low nibble (cleared by reading MSR), line states in the high nibble.
inline constexpr uint8_t msr_delta_cts = 0x01;
inline constexpr uint8_t msr_delta_dsr = 0x02;
inline constexpr uint8_t msr_trailing_edge_ri = 0x04;
inline constexpr uint8_t msr_delta_dcd = 0x08;
inline constexpr uint8_t msr_cts = 0x10;
inline constexpr uint8_t msr_dsr = 0x20;
inline constexpr uint8_t msr_ri = 0x40;
inline constexpr uint8_t msr_dcd = 0x80;

// Depth of the 16550A's hardware receive FIFO; bounds what loopback transmission can queue, so
// the Linux driver's FIFO-size probe sees a 16550A (16 bytes), not a 64-byte variant.
inline constexpr uint64_t hardware_fifo_depth = 16;

} // namespace husk::uart

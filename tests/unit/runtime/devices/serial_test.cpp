// Serial: the 16550A behaviour the Linux 8250 driver relies on, output to an fd, host input,
// interrupts through an EventFd.
#include "runtime/devices/serial.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::uart;

namespace {
// A pipe whose read end never blocks, so a test can drain what the serial wrote.
struct Pipe {
    Fd read_end;
    Fd write_end;
    static Pipe create()
    {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        return Pipe { Fd(fds[0]), Fd(fds[1]) };
    }
    std::string drain() const
    {
        std::string text;
        char buffer[4096];
        ssize_t got;
        while ((got = ::read(read_end.get(), buffer, sizeof buffer)) > 0)
            text.append(buffer, static_cast<size_t>(got));
        return text;
    }
};

uint8_t read_register(Serial& serial, uint64_t offset)
{
    uint8_t value = 0xaa;
    serial.read(offset, std::span(&value, 1));
    return value;
}

void write_register(Serial& serial, uint64_t offset, uint8_t value) { serial.write(offset, std::span(&value, 1)); }

void enqueue(Serial& serial, std::string_view text)
{
    serial.enqueue_input(std::span(reinterpret_cast<uint8_t const*>(text.data()), text.size()));
}

std::shared_ptr<Serial> make_serial(int fd = -1, EventFd const* interrupt = nullptr)
{
    auto serial = Serial::create(fd, interrupt);
    EXPECT_TRUE(serial.has_value());
    return serial.value();
}

EventFd make_event_fd() { return EventFd::create().value(); }
} // namespace

TEST(Serial, ThrWrites_ReachOutputFd)
{
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get());
    for (char c : std::string("hello\n"))
        write_register(*serial, data, static_cast<uint8_t>(c));
    EXPECT_EQ(pipe.drain(), "hello\n");
}

TEST(Serial, WideWrite_ReachesConsecutiveRegisters)
{
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get());
    std::array<uint8_t const, 2> value { 'x', ier_received_data }; // THR then IER
    serial->write(data, value);
    EXPECT_EQ(pipe.drain(), "x");
    EXPECT_EQ(read_register(*serial, interrupt_enable), ier_received_data);
}

TEST(Serial, CreateWithBadFd_Fails)
{
    EXPECT_FALSE(Serial::create(-2, nullptr).has_value());
    EXPECT_FALSE(Serial::create(987654, nullptr).has_value()); // not open
    auto pipe = Pipe::create();
    auto read_only = Serial::create(pipe.read_end.get(), nullptr);
    ASSERT_FALSE(read_only.has_value());
    EXPECT_NE(read_only.error().message.find("not open for writing"), std::string::npos);
}

TEST(Serial, DivisorLatch_SwitchesOffsetsZeroAndOne)
{
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get());
    write_register(*serial, interrupt_enable, ier_thr_empty);

    write_register(*serial, line_control, lcr_divisor_latch | 0x03);
    write_register(*serial, divisor_low, 0x01);
    write_register(*serial, divisor_high, 0x02);
    EXPECT_EQ(read_register(*serial, divisor_low), 0x01);
    EXPECT_EQ(read_register(*serial, divisor_high), 0x02);
    EXPECT_EQ(pipe.drain(), ""); // the divisor write was not transmitted

    write_register(*serial, line_control, 0x03);
    EXPECT_EQ(read_register(*serial, interrupt_enable), ier_thr_empty); // IER untouched by DLM
    write_register(*serial, data, 'A');
    EXPECT_EQ(pipe.drain(), "A");
    EXPECT_EQ(read_register(*serial, line_control), 0x03);
}

TEST(Serial, InterruptEnable_KeepsOnlyLowNibble)
{
    // The Linux probe writes 0 then 0x0f and reads both back; the UUE probe writes bit 6.
    auto serial = make_serial();
    write_register(*serial, interrupt_enable, 0);
    EXPECT_EQ(read_register(*serial, interrupt_enable), 0);
    write_register(*serial, interrupt_enable, 0xff);
    EXPECT_EQ(read_register(*serial, interrupt_enable), 0x0f);
}

TEST(Serial, LineStatus_ReportsTransmitterEmptyAndDataReady)
{
    auto serial = make_serial();
    EXPECT_EQ(read_register(*serial, line_status), lsr_thr_empty | lsr_transmitter_empty);

    enqueue(*serial, "ab");
    EXPECT_EQ(read_register(*serial, line_status), lsr_thr_empty | lsr_transmitter_empty | lsr_data_ready);
    EXPECT_EQ(read_register(*serial, data), 'a');
    EXPECT_EQ(read_register(*serial, data), 'b');
    EXPECT_EQ(read_register(*serial, line_status), lsr_thr_empty | lsr_transmitter_empty);
    EXPECT_EQ(read_register(*serial, data), 0); // empty receiver reads 0
}

TEST(Serial, FifoControl_ShowsInIirTopBits)
{
    auto serial = make_serial();
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_no_interrupt);
    write_register(*serial, fifo_control, fcr_enable_fifo);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_fifo_enabled | iir_no_interrupt);
}

TEST(Serial, FifoControlClearReceive_DropsPendingInput)
{
    auto serial = make_serial();
    write_register(*serial, fifo_control, fcr_enable_fifo);
    enqueue(*serial, "abc");
    write_register(*serial, fifo_control, fcr_enable_fifo | fcr_clear_receive | fcr_clear_transmit);
    EXPECT_FALSE(read_register(*serial, line_status) & lsr_data_ready);
}

TEST(Serial, EnablingThrEmptyInterrupt_FiresEventFdAndIirAcknowledges)
{
    auto interrupt = make_event_fd();
    auto serial = make_serial(-1, &interrupt);
    EXPECT_EQ(*interrupt.consume(), 0u);

    write_register(*serial, interrupt_enable, ier_thr_empty);
    EXPECT_GE(*interrupt.consume(), 1u);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_thr_empty);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_no_interrupt); // reading IIR cleared it

    write_register(*serial, data, 'x'); // THR empties again at once
    EXPECT_GE(*interrupt.consume(), 1u);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_thr_empty);
}

TEST(Serial, ThrEmptyReenabled_ReassertsLikeA16550)
{
    // The Linux 8250 startup THRE test: IER=THRI, read IIR, IER=0, IER=THRI, read IIR.
    auto serial = make_serial();
    write_register(*serial, interrupt_enable, ier_thr_empty);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_thr_empty);
    write_register(*serial, interrupt_enable, 0);
    write_register(*serial, interrupt_enable, ier_thr_empty);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_thr_empty);
}

TEST(Serial, InterruptsDisabled_NeverFireEventFd)
{
    auto interrupt = make_event_fd();
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get(), &interrupt);
    write_register(*serial, data, 'x');
    enqueue(*serial, "input");
    EXPECT_EQ(*interrupt.consume(), 0u);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_no_interrupt);
}

TEST(Serial, ReceivedData_FiresEventFd)
{
    auto interrupt = make_event_fd();
    auto serial = make_serial(-1, &interrupt);
    write_register(*serial, interrupt_enable, ier_received_data);
    EXPECT_EQ(*interrupt.consume(), 0u);
    enqueue(*serial, "k");
    EXPECT_GE(*interrupt.consume(), 1u);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_received_data);
    EXPECT_EQ(read_register(*serial, data), 'k');
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_no_interrupt);
}

TEST(Serial, EnablingReceiveInterruptWithDataWaiting_FiresEventFd)
{
    auto interrupt = make_event_fd();
    auto serial = make_serial(-1, &interrupt);
    enqueue(*serial, "k");
    write_register(*serial, interrupt_enable, ier_received_data);
    EXPECT_GE(*interrupt.consume(), 1u);
}

TEST(Serial, InterruptIdentification_ReportsHighestPrioritySource)
{
    auto serial = make_serial();
    write_register(*serial, interrupt_enable, ier_mask); // all four sources
    write_register(*serial, modem_control, mcr_loopback | mcr_rts); // DSR and DCD drop: modem deltas
    // THRE (set by enabling it) outranks the modem status change.
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_thr_empty);
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_modem_status);
    write_register(*serial, modem_control, 0);

    enqueue(*serial, "x");
    write_register(*serial, data, 'y'); // loopback is off again: transmitted, THRE pending
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_received_data); // data outranks THRE

    std::vector<uint8_t> flood(Serial::input_capacity, 'z');
    serial->enqueue_input(flood); // overflows: overrun, a line status interrupt
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_line_status);
    EXPECT_TRUE(read_register(*serial, line_status) & lsr_overrun); // reading LSR clears it
    EXPECT_EQ(read_register(*serial, interrupt_id), iir_received_data);
}

TEST(Serial, LoopbackWithRtsAndOut2_ShowsCtsAndDcdAsLinuxProbeExpects)
{
    auto serial = make_serial();
    write_register(*serial, modem_control, mcr_loopback | mcr_rts | mcr_out2); // Linux: LOOP | 0x0a
    EXPECT_EQ(read_register(*serial, modem_status) & 0xf0, msr_cts | msr_dcd); // the 0x90 Linux checks
}

TEST(Serial, LoopbackWithDtrAndOut1_ShowsDsrAndRi)
{
    auto serial = make_serial();
    write_register(*serial, modem_control, mcr_loopback | mcr_dtr | mcr_out1);
    EXPECT_EQ(read_register(*serial, modem_status) & 0xf0, msr_dsr | msr_ri);
}

TEST(Serial, ModemStatusOutsideLoopback_ReportsConnectedTerminal)
{
    auto serial = make_serial();
    EXPECT_EQ(read_register(*serial, modem_status), msr_dcd | msr_dsr | msr_cts);
}

TEST(Serial, LoopbackModemChanges_SetDeltasClearedByRead)
{
    auto serial = make_serial();
    write_register(*serial, modem_control, mcr_loopback | mcr_out1); // RI rises, CTS/DSR/DCD fall
    EXPECT_EQ(read_register(*serial, modem_status), msr_ri | msr_delta_cts | msr_delta_dsr | msr_delta_dcd);
    EXPECT_EQ(read_register(*serial, modem_status), msr_ri);
    write_register(*serial, modem_control, mcr_loopback); // RI falls: trailing edge
    EXPECT_EQ(read_register(*serial, modem_status), msr_trailing_edge_ri);
}

TEST(Serial, LoopbackTransmit_ComesBackThroughReceiverNotOutput)
{
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get());
    write_register(*serial, modem_control, mcr_loopback);
    write_register(*serial, data, 'q');
    EXPECT_EQ(pipe.drain(), "");
    EXPECT_TRUE(read_register(*serial, line_status) & lsr_data_ready);
    EXPECT_EQ(read_register(*serial, data), 'q');
}

TEST(Serial, LoopbackTransmit_HoldsOnlyAHardwareFifo)
{
    // Linux's size_fifo() writes 256 bytes in loopback and counts what comes back.
    auto serial = make_serial();
    write_register(*serial, modem_control, mcr_loopback);
    for (int i = 0; i < 256; ++i)
        write_register(*serial, data, static_cast<uint8_t>(i));
    int count = 0;
    while ((read_register(*serial, line_status) & lsr_data_ready) && count < 256) {
        EXPECT_EQ(read_register(*serial, data), count);
        ++count;
    }
    EXPECT_EQ(count, 16);
}

TEST(Serial, InputBeyondBound_IsDroppedAndCounted)
{
    auto serial = make_serial();
    std::vector<uint8_t> input(Serial::input_capacity + 10);
    for (size_t i = 0; i < input.size(); ++i)
        input[i] = static_cast<uint8_t>(i * 7);
    EXPECT_EQ(serial->input_room(), Serial::input_capacity);

    serial->enqueue_input(input);

    EXPECT_EQ(serial->dropped_input_bytes(), 10u);
    EXPECT_EQ(serial->input_room(), 0u);
    EXPECT_TRUE(read_register(*serial, line_status) & lsr_overrun);
    for (size_t i = 0; i < Serial::input_capacity; ++i)
        ASSERT_EQ(read_register(*serial, data), input[i]) << "byte " << i; // the oldest bytes are kept, in order
    EXPECT_FALSE(read_register(*serial, line_status) & lsr_data_ready);
    EXPECT_EQ(serial->input_room(), Serial::input_capacity);
}

TEST(Serial, FullNonBlockingOutput_DropsWithoutBlocking)
{
    auto pipe = Pipe::create();
    ASSERT_EQ(::fcntl(pipe.write_end.get(), F_SETFL, O_NONBLOCK), 0);
    std::vector<char> filler(4096, '.');
    while (::write(pipe.write_end.get(), filler.data(), filler.size()) > 0) { }
    auto serial = make_serial(pipe.write_end.get());

    write_register(*serial, data, 'a');
    write_register(*serial, data, 'b');
    EXPECT_EQ(serial->dropped_output_bytes(), 2u);

    pipe.drain(); // the reader catches up: output resumes
    write_register(*serial, data, 'c');
    EXPECT_EQ(pipe.drain(), "c");
}

TEST(Serial, BrokenOutput_IsDisabledWithoutCrashing)
{
    auto previous = std::signal(SIGPIPE, SIG_IGN); // husk-vmm ignores SIGPIPE process-wide
    auto pipe = Pipe::create();
    pipe.read_end.reset();
    auto serial = make_serial(pipe.write_end.get());
    write_register(*serial, data, 'a');
    write_register(*serial, data, 'b');
    write_register(*serial, data, 'c');
    std::signal(SIGPIPE, previous);
    EXPECT_EQ(serial->dropped_output_bytes(), 3u);
    EXPECT_EQ(read_register(*serial, line_status) & lsr_thr_empty, lsr_thr_empty); // guest still sees a working UART
}

TEST(Serial, ConcurrentWriters_LoseNoOutput)
{
    auto pipe = Pipe::create();
    auto serial = make_serial(pipe.write_end.get());
    std::vector<std::thread> vcpus;
    for (int t = 0; t < 4; ++t) {
        vcpus.emplace_back([&serial, t] {
            for (int i = 0; i < 1000; ++i) {
                write_register(*serial, data, static_cast<uint8_t>('a' + t));
                read_register(*serial, interrupt_id);
            }
        });
    }
    std::thread input([&serial] {
        for (int i = 0; i < 1000; ++i)
            enqueue(*serial, "i");
    });
    for (auto& vcpu : vcpus)
        vcpu.join();
    input.join();
    auto output = pipe.drain();
    EXPECT_EQ(output.size(), 4000u);
    for (char c : { 'a', 'b', 'c', 'd' })
        EXPECT_EQ(std::count(output.begin(), output.end(), c), 1000);
    EXPECT_EQ(serial->input_room(), Serial::input_capacity - 1000);
}

// The console often goes to a file on the host: a guest printing forever must not fill the disk.
TEST(Serial, OutputBeyondItsLimit_EndsWithANoticeAndIsCountedAsDropped)
{
    auto pipe = Pipe::create();
    auto created = Serial::create(pipe.write_end.get(), nullptr, 8);
    ASSERT_TRUE(created.has_value());
    auto& serial = **created;
    for (char c : std::string("0123456789abcdef"))
        write_register(serial, data, static_cast<uint8_t>(c));

    EXPECT_EQ(pipe.drain(),
        "01234567\n[husk: the guest's console output reached its limit of 8 bytes; the rest is dropped]\n");
    EXPECT_EQ(serial.dropped_output_bytes(), 8u);
}

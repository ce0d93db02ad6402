// Machine end to end with tiny 64-bit guests instead of Linux: each guest is a few instructions
// packed into a minimal ELF "vmlinux", entered in long mode exactly as a kernel would be. They
// exercise assembly, the run loop and every way a VM stops. They need /dev/kvm (PVM is fine for
// such code) and are skipped loudly without it.
#include "guest-init/protocol/status_port.hpp"
#include "runtime/vmm/machine.hpp"

#include <csignal>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace husk;
using namespace std::chrono_literals;

namespace {
constexpr uint64_t kernel_load_address = 0x100000;
constexpr uint16_t serial_port = 0x3f8;
constexpr uint8_t i8042_command_port = 0x64;
constexpr uint8_t i8042_pulse_reset = 0xfe;
constexpr uint8_t unmapped_port = 0x80;
// In the MMIO hole, above the virtio-mmio slots, below the IO-APIC: nothing answers there.
constexpr uint32_t unmapped_mmio_address = 0xe000'0000;
// Slot 0 holds virtio-rng in every VM; its MagicValue register reads "virt" (0x74726976).
constexpr uint32_t first_virtio_slot_address = 0xd000'0000;
constexpr uint8_t virtio_magic_first_byte = 'v';

// x86-64 machine code for the few things the test guests do.
class GuestProgram {
public:
    GuestProgram& out8(uint16_t port, uint8_t value)
    {
        mov_dx(port);
        emit({ 0xb0, value, 0xee }); // mov al, value ; out dx, al
        return *this;
    }
    GuestProgram& out32(uint16_t port, uint32_t value)
    {
        mov_dx(port);
        emit({ 0xb8 }); // mov eax, imm32
        emit32(value);
        emit({ 0xef }); // out dx, eax
        return *this;
    }
    GuestProgram& print(std::string_view text)
    {
        for (char c : text)
            out8(serial_port, static_cast<uint8_t>(c));
        return *this;
    }
    GuestProgram& boot_marker()
    {
        return out8(status_port::base + status_port::boot_marker, status_port::boot_marker_value);
    }
    GuestProgram& exit_code(uint32_t code) { return out32(status_port::base + status_port::job_exit_code, code); }
    GuestProgram& shutdown_intent()
    {
        return out32(status_port::base + status_port::shutdown_intent, status_port::shutdown_intent_value);
    }
    GuestProgram& i8042_reset()
    {
        emit({ 0xb0, i8042_pulse_reset, 0xe6, i8042_command_port }); // mov al, 0xfe ; out 0x64, al
        return halt_forever();
    }
    GuestProgram& halt_forever()
    {
        emit({ 0xfa, 0xf4, 0xeb, 0xfd }); // cli ; hlt ; jmp back to hlt
        return *this;
    }
    GuestProgram& spin()
    {
        emit({ 0xeb, 0xfe }); // jmp $
        return *this;
    }
    GuestProgram& undefined_instruction()
    {
        emit({ 0x0f, 0x0b }); // ud2: with the boot IDT empty this escalates to a triple fault
        return *this;
    }
    // Reads an unmapped port and reports the byte read as the job's exit code.
    GuestProgram& unmapped_port_read_as_exit_code()
    {
        emit({ 0xe4, unmapped_port, 0x0f, 0xb6, 0xc0 }); // in al, 0x80 ; movzx eax, al
        return out_eax_to_exit_code();
    }
    // Reads MMIO (identity-mapped by the boot page tables) likewise; the exit code is the low
    // byte of what the read returns.
    enum class Width { Byte, Dword };
    GuestProgram& mmio_read_as_exit_code(uint32_t address, Width width)
    {
        // A disp32 operand would be sign-extended to 0xffffffff........, so go through rax.
        emit({ 0xb8 }); // mov eax, imm32 (zero-extends into rax)
        emit32(address);
        if (width == Width::Byte)
            emit({ 0x0f, 0xb6, 0x00 }); // movzx eax, byte [rax]
        else
            emit({ 0x8b, 0x00, 0x0f, 0xb6, 0xc0 }); // mov eax, dword [rax] ; movzx eax, al
        return out_eax_to_exit_code();
    }
    std::vector<uint8_t> const& bytes() const { return m_bytes; }

private:
    GuestProgram& out_eax_to_exit_code()
    {
        mov_dx(status_port::base + status_port::job_exit_code);
        emit({ 0xef });
        return *this;
    }
    void mov_dx(uint16_t port) { emit({ 0x66, 0xba, static_cast<uint8_t>(port), static_cast<uint8_t>(port >> 8) }); }
    void emit(std::initializer_list<uint8_t> bytes) { m_bytes.insert(m_bytes.end(), bytes); }
    void emit32(uint32_t value)
    {
        for (int shift = 0; shift < 32; shift += 8)
            m_bytes.push_back(static_cast<uint8_t>(value >> shift));
    }
    std::vector<uint8_t> m_bytes;
};

// A minimal valid ELF64 executable: one PT_LOAD at 1 MiB holding the code, entry at its start.
std::string elf_kernel(std::vector<uint8_t> const& code)
{
    Elf64_Ehdr header {};
    std::memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_type = ET_EXEC;
    header.e_machine = EM_X86_64;
    header.e_version = EV_CURRENT;
    header.e_entry = kernel_load_address;
    header.e_phoff = sizeof(Elf64_Ehdr);
    header.e_ehsize = sizeof(Elf64_Ehdr);
    header.e_phentsize = sizeof(Elf64_Phdr);
    header.e_phnum = 1;
    Elf64_Phdr segment {};
    segment.p_type = PT_LOAD;
    segment.p_flags = PF_R | PF_X;
    segment.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    segment.p_vaddr = kernel_load_address;
    segment.p_paddr = kernel_load_address;
    segment.p_filesz = code.size();
    segment.p_memsz = code.size();
    std::string file(reinterpret_cast<char const*>(&header), sizeof header);
    file.append(reinterpret_cast<char const*>(&segment), sizeof segment);
    file.append(code.begin(), code.end());
    return file;
}

class MachineTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::access("/dev/kvm", R_OK | W_OK) != 0)
            GTEST_SKIP() << "/dev/kvm is missing or not accessible on this host: Machine tests NOT RUN";
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-machine-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_dir = pattern;
    }
    void TearDown() override
    {
        std::error_code ignored;
        if (!m_dir.empty())
            std::filesystem::remove_all(m_dir, ignored);
    }

    MachineConfig config_for(GuestProgram const& program, unsigned vcpus = 1)
    {
        auto kernel = (m_dir / "vmlinux").string();
        std::ofstream(kernel, std::ios::binary) << elf_kernel(program.bytes());
        MachineConfig config;
        config.kernel_path = kernel;
        config.cmdline = "console=ttyS0";
        config.memory_bytes = 32ull << 20;
        config.vcpus = vcpus;
        config.serial = { SerialOutput::Kind::File, console_path() };
        config.timeout = 10s; // a safety net; every test stops far earlier
        config.pvm_policy = PvmPolicy::Allow;
        return config;
    }
    StopReport run(MachineConfig config)
    {
        auto machine = Machine::create(std::move(config));
        EXPECT_TRUE(machine) << machine.error().message;
        if (!machine)
            return {};
        return (*machine)->run();
    }
    std::string console_path() const { return (m_dir / "console.log").string(); }
    std::string console() const
    {
        std::ifstream in(console_path());
        return std::string((std::istreambuf_iterator<char>(in)), {});
    }

    std::filesystem::path m_dir;
};
} // namespace

TEST_F(MachineTest, ResetAfterShutdownIntent_IsGuestShutdownWithJobStatus)
{
    auto report
        = run(config_for(GuestProgram().print("hi").boot_marker().exit_code(7).shutdown_intent().i8042_reset()));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    ASSERT_TRUE(report.guest.exit_code);
    EXPECT_EQ(*report.guest.exit_code, 7);
    EXPECT_EQ(console(), "hi");
    EXPECT_TRUE(report.timings.setup);
    EXPECT_TRUE(report.timings.boot_to_init);
    EXPECT_GE(report.timings.total, *report.timings.setup);
}

TEST_F(MachineTest, StopAtBootMarker_EndsCleanlyAtTheMarker)
{
    auto config = config_for(GuestProgram().boot_marker().spin());
    config.stop_at_boot_marker = true;
    auto report = run(std::move(config));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    EXPECT_NE(report.detail.find("boot marker"), std::string::npos);
    EXPECT_TRUE(report.timings.boot_to_init);
}

TEST_F(MachineTest, ResetWithoutIntent_IsGuestCrashed)
{
    auto report = run(config_for(GuestProgram().exit_code(1).i8042_reset()));
    EXPECT_EQ(report.reason, StopReason::GuestCrashed) << report.detail;
    EXPECT_FALSE(report.timings.boot_to_init);
}

TEST_F(MachineTest, ResetPortCf9_StopsTheGuestToo)
{
    auto report = run(config_for(GuestProgram().shutdown_intent().out8(0xcf9, 0x06).halt_forever()));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    EXPECT_NE(report.detail.find("0xcf9"), std::string::npos);
}

TEST_F(MachineTest, TripleFault_IsGuestCrashed)
{
    auto report = run(config_for(GuestProgram().undefined_instruction()));
    EXPECT_EQ(report.reason, StopReason::GuestCrashed) << report.detail;
    EXPECT_NE(report.detail.find("triple fault"), std::string::npos) << report.detail;
}

TEST_F(MachineTest, HaltWithInterruptsOff_IsGuestHalted)
{
    auto started = std::chrono::steady_clock::now();
    auto report = run(config_for(GuestProgram().halt_forever()));
    EXPECT_EQ(report.reason, StopReason::GuestHalted) << report.detail;
    // Two samples 500 ms apart: about a second, far below the 10 s safety timeout.
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(MachineTest, SpinningGuest_StopsAtTimeout)
{
    auto config = config_for(GuestProgram().spin());
    config.timeout = 300ms;
    auto started = std::chrono::steady_clock::now();
    auto report = run(std::move(config));
    auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(report.reason, StopReason::Timeout) << report.detail;
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 2s);
}

TEST_F(MachineTest, TwoVcpus_BspShutsDownWhileApWaits)
{
    auto report = run(config_for(GuestProgram().boot_marker().shutdown_intent().i8042_reset(), 2));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
}

TEST_F(MachineTest, UnmappedPortRead_ReturnsAllOnes)
{
    auto report = run(config_for(GuestProgram().unmapped_port_read_as_exit_code().shutdown_intent().i8042_reset()));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    ASSERT_TRUE(report.guest.exit_code);
    EXPECT_EQ(*report.guest.exit_code, 0xff);
}

TEST_F(MachineTest, UnmappedMmioRead_ReturnsAllOnes)
{
    auto report = run(config_for(
        GuestProgram().mmio_read_as_exit_code(unmapped_mmio_address, GuestProgram::Width::Byte).shutdown_intent().i8042_reset()));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    ASSERT_TRUE(report.guest.exit_code);
    EXPECT_EQ(*report.guest.exit_code, 0xff);
}

TEST_F(MachineTest, FirstVirtioSlot_AnswersWithTheVirtioMagic)
{
    auto report = run(config_for(
        GuestProgram()
            .mmio_read_as_exit_code(first_virtio_slot_address, GuestProgram::Width::Dword)
            .shutdown_intent()
            .i8042_reset()));
    EXPECT_EQ(report.reason, StopReason::GuestShutdown) << report.detail;
    ASSERT_TRUE(report.guest.exit_code);
    EXPECT_EQ(*report.guest.exit_code, virtio_magic_first_byte);
}

TEST_F(MachineTest, HostSigterm_IsHostSignal)
{
    // Block SIGTERM here first so the helper thread inherits the block and the signal stays
    // pending for Machine::run's signalfd instead of killing the test binary.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &set, nullptr), 0);
    auto config = config_for(GuestProgram().spin());
    std::thread sender([] {
        std::this_thread::sleep_for(200ms);
        ::kill(::getpid(), SIGTERM);
    });
    auto report = run(std::move(config));
    sender.join();
    EXPECT_EQ(report.reason, StopReason::HostSignal) << report.detail;
    EXPECT_NE(report.detail.find("SIGTERM"), std::string::npos) << report.detail;
}

TEST_F(MachineTest, CorruptKernel_IsRefusedWithLoaderMessage)
{
    auto config = config_for(GuestProgram().spin());
    std::ofstream(config.kernel_path, std::ios::binary) << std::string(4096, 'x');
    auto machine = Machine::create(config);
    ASSERT_FALSE(machine);
    EXPECT_NE(machine.error().message.find("kernel " + config.kernel_path), std::string::npos)
        << machine.error().message;
}

TEST_F(MachineTest, MissingInitrd_IsRefused)
{
    auto config = config_for(GuestProgram().spin());
    config.initrd_path = (m_dir / "no-initrd").string();
    auto machine = Machine::create(config);
    ASSERT_FALSE(machine);
    EXPECT_NE(machine.error().message.find("initrd"), std::string::npos) << machine.error().message;
}

TEST(Machine, ZeroVcpus_IsRefusedBeforeTouchingKvm)
{
    MachineConfig config;
    config.kernel_path = "vmlinux";
    config.vcpus = 0;
    auto machine = Machine::create(config);
    ASSERT_FALSE(machine);
    EXPECT_NE(machine.error().message.find("vCPUs"), std::string::npos);
}

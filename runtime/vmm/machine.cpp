// Machine assembly: KVM VM, memory, kernel and boot structures, devices, vCPU boot state.
#include "runtime/vmm/machine.hpp"

#include "guest-init/protocol/status_port.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/boot/boot_params.hpp"
#include "runtime/boot/cpu_state.hpp"
#include "runtime/boot/cpuid.hpp"
#include "runtime/boot/kernel_loader.hpp"
#include "runtime/boot/layout.hpp"
#include "runtime/boot/mptable.hpp"
#include "runtime/devices/i8042.hpp"
#include "runtime/kvm/supported_cpuid_ahead.hpp"
#include "runtime/vmm/host_files.hpp"

namespace husk {

namespace {
    // A vmlinux carries symbols and sections it never loads; 1 GiB is far beyond any real kernel
    // and keeps a wrong path (a disk image) from being slurped into memory.
    constexpr uint64_t max_kernel_file_size = 1ull << 30;
} // namespace

Machine::Machine(MachineConfig config, Kvm kvm, Vm vm, GuestMemory memory, StopController stop)
    : m_config(std::move(config))
    , m_kvm(std::move(kvm))
    , m_vm(std::move(vm))
    , m_memory(std::move(memory))
    , m_stop(std::move(stop))
{
}

Machine::~Machine() = default;

Result<std::unique_ptr<Machine>> Machine::create(MachineConfig config)
{
    if (config.vcpus == 0 || config.vcpus > machine_max_vcpus)
        return fail(
            "a VM needs 1 to " + std::to_string(machine_max_vcpus) + " vCPUs, not " + std::to_string(config.vcpus));

    std::optional<SetupPhase> phase;
    phase.emplace("kvm open");
    auto kvm = TRY(Kvm::open(config.pvm_policy));
    // Needed only by the vCPUs, asked now on a helper thread (supported_cpuid_ahead.hpp).
    SupportedCpuidAhead cpuid_ahead(TRY(kvm.another_handle()));
    phase.emplace("vm create");
    auto vm = TRY(Vm::create(kvm));
    // Order required by KVM: TSS and identity map, then the irqchip, all before any vCPU.
    TRY(vm.set_tss_address(kvm_tss_address));
    TRY(vm.set_identity_map_address(kvm_identity_map_address));
    phase.emplace("guest memory map");
    auto regions = layout::ram_regions(config.memory_bytes);
    auto memory = TRY_CONTEXT(GuestMemory::create(regions, config.memory_huge_pages), "guest memory");
    if (config.memory_huge_pages == HugePages::On && memory.huge_pages() == HugePages::Off)
        log_debug("guest memory: the host has no transparent huge pages; 4 KiB pages");
    // The boot structures (GDT, boot_params, page tables, command line) are written into the
    // first 2 MiB before the first KVM_RUN: as a huge page, that first write zeroed 2 MiB on the
    // way (boot structures 0.04 -> 0.31 ms natively, bench/setup) for a frame the guest barely uses.
    TRY_CONTEXT(memory.keep_small_pages(GuestAddress { 0 }, 2ull << 20), "guest memory");
    // The memory slot before the irqchip: registering a slot waits for an SRCU grace period of
    // the VM, which ends at once while none is in flight. The irqchip's device registrations
    // start one without waiting for it (host kernel 6.18), and a slot registered after them
    // waited for that one to end: 4-8 ms of setup with 0.1 ms of CPU on a 250 Hz host
    // (docs/benchmarks.md, bench/setup).
    phase.emplace("memory slots");
    TRY(vm.map_memory(memory));
    // No i8254 PIT: a Linux guest with kvmclock and the TSC-deadline LAPIC timer (with ARAT,
    // runtime/boot/cpuid.cpp) never uses it (apic_needs_pit()), and KVM's PIT made each VM's
    // exit wait for SRCU grace periods (~20 ms on a 250 Hz host) besides a kernel thread per VM.
    phase.emplace("irqchip");
    TRY(vm.create_irqchip());
    phase.emplace("legacy devices");
    auto stop = TRY(StopController::create());

    std::unique_ptr<Machine> machine(
        new Machine(std::move(config), std::move(kvm), std::move(vm), std::move(memory), std::move(stop)));
    // Devices first: the virtio slots add their arguments to the kernel command line.
    TRY(machine->create_devices());
    phase.emplace("virtio devices");
    TRY(machine->create_virtio_devices());
    phase.reset();
    TRY(machine->load_guest());
    phase.emplace("vcpus");
    TRY(machine->create_vcpus(TRY(cpuid_ahead.supported_cpuid())));
    phase.emplace("control socket");
    TRY(machine->create_control_socket());
    return machine;
}

Result<void> Machine::create_control_socket()
{
    // Learnt now, while the main thread may still ask KVM anything: a snapshot needs them later.
    m_msr_indices = TRY_CONTEXT(m_kvm.msr_index_list(), "snapshot support");
    m_xsave_size = m_vm.xsave_size();
    if (m_config.control_path)
        m_control.emplace(TRY(ControlSocket::listen(*m_config.control_path)));
    return {};
}

namespace {

    // The kernel's and the initrd's pages are mapped copy-on-write from their files into guest
    // RAM (GuestMemory::write_from_file), not copied: natively that halves husk-vmm's setup
    // (bench/setup: 25.5 ms median exec to first KVM_RUN and 2.4 ms of CPU, against 53.0 ms and
    // 12.5 ms copying 10.6 MB of PT_LOAD and a 3.4 MB initrd), and VMs booted from one vmlinux
    // share its pages until they write one. The price is a second, copy-on-write fault for each
    // mapped page the guest writes (.data, text patched at boot, the freed initrd reused): a few
    // microseconds on hardware KVM, but dear under the lab's nested TCG, where copying into 4 KiB
    // pages booted faster (docs/benchmarks.md: 19.1 s against 20.7 s median, 7 of 10 pairs). With
    // huge pages the 2 MiB frames the images land in (about 7 of a 128 MiB guest's 64) stay in
    // 4 KiB pages; copying into huge pages instead cut the lab's nested page faults per boot
    // from 7,200 to 1,200 but booted in the same time (1131 against 1133 ms median, 15
    // interleaved runs on a quiet machine) and cost 2.5-40x the setup CPU on a nested (PVM)
    // host, where each fresh huge page is dear (docs/benchmarks.md, "Guest RAM on transparent
    // huge pages"). `false` copies.
    constexpr bool map_images_from_files = true;

    MappableFile loaded_image_source(MappedImage const& image)
    {
        return map_images_from_files ? image.file() : MappableFile {};
    }

} // namespace

Result<void> Machine::load_guest()
{
    std::optional<SetupPhase> phase;
    phase.emplace("kernel load");
    auto kernel_image = TRY(MappedImage::open(m_config.kernel_path, max_kernel_file_size, "kernel"));
    auto kernel = TRY_CONTEXT(load_kernel(m_memory, kernel_image.bytes(), loaded_image_source(kernel_image)),
        "kernel " + m_config.kernel_path);
    log_debug("kernel loaded: " + std::to_string(kernel_image.bytes().size()) + " bytes");
    m_kernel_entry = kernel.entry;

    std::optional<InitrdPlacement> initrd;
    if (m_config.initrd_path) {
        phase.emplace("initrd load");
        auto image = TRY(MappedImage::open(*m_config.initrd_path, m_config.memory_bytes, "initrd"));
        uint64_t initrd_addr_max
            = kernel.setup_header ? kernel.setup_header->initrd_addr_max : boot_protocol::default_initrd_addr_max;
        initrd = TRY_CONTEXT(
            load_initrd(m_memory, image.bytes(), kernel.end, initrd_addr_max, loaded_image_source(image)),
            "initrd " + *m_config.initrd_path);
    }
    // A bzImage states how much command line it keeps; a longer one would be cut silently.
    if (kernel.setup_header && kernel.setup_header->cmdline_size != 0
        && m_config.cmdline.size() > kernel.setup_header->cmdline_size)
        return fail("the kernel command line has " + std::to_string(m_config.cmdline.size())
            + " bytes but this kernel keeps only " + std::to_string(kernel.setup_header->cmdline_size));

    phase.emplace("boot structures");
    BootParamsConfig boot_params { m_config.cmdline, initrd, kernel.setup_header };
    TRY_CONTEXT(write_boot_params(m_memory, boot_params), "boot parameters");
    TRY_CONTEXT(write_mptable(m_memory, m_config.vcpus), "MP table");
    TRY_CONTEXT(write_gdt_and_page_tables(m_memory), "boot page tables");
    return {};
}

Result<void> Machine::create_devices()
{
    m_serial_output = TRY(open_serial_output(m_config.serial));
    m_serial_interrupt = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    TRY_CONTEXT(m_vm.register_irqfd(*m_serial_interrupt, com1_gsi), "serial interrupt");
    m_serial = TRY(Serial::create(m_serial_output.get(), &*m_serial_interrupt));
    TRY(m_pio_bus.insert(m_serial, com1_port, com1_port_count));

    // Devices call back from vCPU threads; the Machine outlives them (it joins every vCPU
    // thread before it is destroyed), so capturing `this` is safe.
    m_i8042 = std::make_shared<I8042>([this] { on_guest_reset("i8042 reset"); });
    TRY(m_pio_bus.insert(m_i8042, I8042::port_base, I8042::port_length));
    auto reset_port = std::make_shared<ResetPort>([this] { on_guest_reset("port 0xcf9 reset"); });
    TRY(m_pio_bus.insert(reset_port, ResetPort::port_base, ResetPort::port_length));
    m_status = std::make_shared<StatusDevice>([this] { on_boot_marker(); }, [this] { on_agent_listening(); });
    TRY(m_pio_bus.insert(m_status, status_port::base, status_port::length));
    return {};
}

Result<void> Machine::create_virtio_devices()
{
    m_virtio = TRY(VirtioDevices::create(m_config, m_vm, m_memory, m_mmio_bus));
    // In front of everything else: after ` -- ` the kernel would hand them to init as job
    // arguments.
    m_config.cmdline = m_virtio->kernel_arguments() + ' ' + m_config.cmdline;
    if (m_config.cmdline.size() > layout::linux_cmdline_max_length)
        return fail("with the virtio-mmio device arguments the kernel command line has "
            + std::to_string(m_config.cmdline.size()) + " bytes; Linux keeps at most "
            + std::to_string(layout::linux_cmdline_max_length) + " (shorten the job's arguments)");
    return {};
}

Result<void> Machine::create_vcpus(std::vector<kvm_cpuid_entry2> const& supported_cpuid)
{
    auto msrs = boot_msrs();
    m_vcpus.reserve(m_config.vcpus);
    for (unsigned index = 0; index < m_config.vcpus; ++index) {
        std::string context = "vCPU " + std::to_string(index);
        auto vcpu = TRY(Vcpu::create(m_vm, index));
        // CPUID first: KVM checks MSRs and features against the CPUID the vCPU has.
        auto cpuid = cpuid_for_vcpu(supported_cpuid, index, m_config.vcpus);
        TRY_CONTEXT(vcpu.set_cpuid(cpuid), context);
        // After CPUID (KVM accepts only the XCR0 bits it allows): see guest_xcr0 for why the
        // vCPU starts with every component the guest will enable.
        TRY_CONTEXT(vcpu.set_xcrs(initial_xcrs(cpuid)), context);
        m_vcpu_cpuid.push_back(cpuid);
        TRY_CONTEXT(vcpu.set_msrs(msrs), context);
        TRY_CONTEXT(vcpu.set_fpu(initial_fpu()), context);
        auto lapic = TRY_CONTEXT(vcpu.get_lapic(), context);
        configure_lapic_lint(lapic);
        TRY_CONTEXT(vcpu.set_lapic(lapic), context);
        // Only the BSP starts at the kernel entry. With the in-kernel irqchip the APs sit in
        // KVM's wait-for-SIPI state and the guest's INIT/SIPI sequence sets their state.
        if (index == 0) {
            auto sregs = TRY_CONTEXT(vcpu.get_sregs(), context);
            TRY_CONTEXT(vcpu.set_sregs(long_mode_sregs(sregs)), context);
            TRY_CONTEXT(vcpu.set_regs(entry_regs(m_kernel_entry)), context);
        }
        m_vcpus.push_back(std::move(vcpu));
    }
    return {};
}

void Machine::on_guest_reset(std::string_view mechanism)
{
    auto request = classify_guest_reset(m_status ? m_status->status() : GuestStatus {}, mechanism);
    m_stop.request(request.reason, std::move(request.detail));
}

void Machine::on_agent_listening()
{
    if (m_virtio)
        m_virtio->note_agent_listening();
}

void Machine::on_boot_marker()
{
    m_guest_booted.store(true);
    if (m_virtio)
        m_virtio->note_boot_marker();
    if (m_config.stop_at_boot_marker)
        m_stop.request(StopReason::GuestShutdown, "stopped at husk-init's boot marker (--exit-at-boot-marker)");
    int64_t first_run = m_first_run_ns.load();
    if (first_run == 0)
        return;
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - std::chrono::nanoseconds(first_run));
    log_info("guest init started " + std::to_string(elapsed.count()) + " us after the first KVM_RUN");
}

} // namespace husk

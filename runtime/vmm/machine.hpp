// Machine: one assembled micro-VM (KVM VM, guest memory with the kernel and boot structures,
// legacy devices on the port I/O bus, vCPUs in their boot state) and the loop that runs it to
// a stop. Built by create(), run once by run().
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/devices/serial.hpp"
#include "runtime/devices/status_device.hpp"
#include "runtime/kvm/kvm.hpp"
#include "runtime/kvm/vcpu.hpp"
#include "runtime/kvm/vm.hpp"
#include "runtime/devices/i8042.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "runtime/snapshot/machine_snapshot.hpp"
#include "runtime/vmm/control_socket.hpp"
#include "runtime/vmm/machine_config.hpp"
#include "runtime/vmm/stop_controller.hpp"
#include "runtime/vmm/stop_report.hpp"
#include "runtime/vmm/virtio_devices.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace husk {

inline constexpr uint16_t com1_port = 0x3f8;
inline constexpr uint64_t com1_port_count = 8;
inline constexpr uint32_t com1_gsi = 4;
inline constexpr unsigned machine_max_vcpus = 32;

class VcpuRunner;

class Machine {
public:
    // Builds the whole VM; any failure (no usable KVM, a corrupt kernel, an initrd that does not
    // fit) is returned with a message naming it, and nothing is left behind.
    static Result<std::unique_ptr<Machine>> create(MachineConfig config);
    // Builds the VM of a snapshot instead of booting one (runtime/vmm/machine_restore.cpp): guest
    // memory mapped privately from `memory_file`, vCPUs, interrupt controllers, clocks and devices
    // as saved, the guest clocks advanced by the time since the snapshot. `config` supplies what
    // may differ per clone (vsock socket and CID, disk paths, serial, timeout, jail); its devices
    // must be those of the snapshot.
    static Result<std::unique_ptr<Machine>> restore(
        MachineConfig config, MachineSnapshot const& snapshot, Fd memory_file);
    Machine(Machine const&) = delete;
    Machine& operator=(Machine const&) = delete;
    ~Machine();

    // Runs the vCPUs until the VM stops and reports why. Call once. Blocks SIGINT and SIGTERM in
    // the calling thread (they end the VM as HostSignal) and leaves them blocked, so a late
    // signal cannot kill the process before the report is written.
    StopReport run();

    // For tests and the control plane joining later. Buses are not locked: add devices (and
    // ioeventfds/irqfds) only before run().
    Bus& mmio_bus() { return m_mmio_bus; }
    Vm& vm() { return m_vm; }
    GuestMemory& memory() { return m_memory; }

private:
    Machine(MachineConfig config, Kvm kvm, Vm vm, GuestMemory memory, StopController stop);
    Result<void> create_control_socket();
    Result<void> load_guest();
    Result<void> create_devices();
    Result<void> create_virtio_devices();
    Result<void> create_vcpus(std::vector<kvm_cpuid_entry2> const& supported_cpuid);
    void on_guest_reset(std::string_view mechanism);
    void on_boot_marker();
    void on_agent_listening();
    StopReport build_report(std::chrono::steady_clock::time_point stopped_at) const;

    // Snapshots (machine_snapshot_capture.cpp, machine_control.cpp, machine_restore.cpp).
    void serve_control(std::vector<std::unique_ptr<VcpuRunner>>& runners);
    void handle_control_request(ControlRequest request, std::vector<std::unique_ptr<VcpuRunner>>& runners);
    Result<void> pause(std::vector<std::unique_ptr<VcpuRunner>>& runners);
    void resume(std::vector<std::unique_ptr<VcpuRunner>>& runners);
    Result<std::string> write_snapshot(int state_fd, int memory_fd);
    // Every vCPU parked and the device thread too.
    Result<MachineSnapshot> capture_snapshot() const;
    Result<void> restore_vcpus(MachineSnapshot const& snapshot, int64_t elapsed_ns);
    Result<void> restore_vm_state(MachineSnapshot const& snapshot, int64_t elapsed_ns);
    Result<void> restore_devices(MachineSnapshot const& snapshot);

    MachineConfig m_config;
    Kvm m_kvm;
    Vm m_vm;
    GuestMemory m_memory;
    StopController m_stop;
    GuestAddress m_kernel_entry;

    Fd m_serial_output;
    std::optional<EventFd> m_serial_interrupt; // irqfd on com1_gsi; outlives m_serial
    std::shared_ptr<Serial> m_serial;
    std::shared_ptr<StatusDevice> m_status;
    std::shared_ptr<I8042> m_i8042;
    // Before the buses: the MMIO bus shares the virtio transports, which must be destroyed
    // before the devices they drive, so the bus has to go first.
    std::unique_ptr<VirtioDevices> m_virtio;
    Bus m_pio_bus;
    Bus m_mmio_bus;

    std::vector<Vcpu> m_vcpus;
    // What a snapshot needs and cannot ask KVM for once the main thread is filtered: each vCPU's
    // CPUID as set, the saveable MSRs, the XSAVE area size.
    std::vector<std::vector<kvm_cpuid_entry2>> m_vcpu_cpuid;
    std::vector<uint32_t> m_msr_indices;
    size_t m_xsave_size { 0 };
    std::optional<ControlSocket> m_control;
    bool m_paused { false };
    std::atomic<int64_t> m_first_run_ns { 0 }; // steady_clock ns of the first KVM_RUN
    std::atomic<bool> m_guest_booted { false }; // husk-init's boot marker seen
    bool m_ran { false };
};

} // namespace husk

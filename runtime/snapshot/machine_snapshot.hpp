// MachineSnapshot: everything a snapshot state file holds about one paused VM (the guest memory
// itself is the raw memory file beside it). Plain data: the VMM fills it from KVM and the devices
// (runtime/vmm/machine_snapshot_capture.cpp), snapshot_format encodes and decodes it.
#pragma once

#include "runtime/devices/i8042.hpp"
#include "runtime/devices/serial.hpp"
#include "runtime/devices/status_device.hpp"
#include "runtime/share/share_session.hpp"
#include "virtio/mmio/mmio_transport_state.hpp"

#include <array>
#include <cstdint>
#include <linux/kvm.h>
#include <string>
#include <vector>

namespace husk {

// One guest RAM region and where its bytes are in the memory file.
struct MemoryRegionSnapshot {
    uint64_t guest_address { 0 };
    uint64_t size { 0 };
    uint64_t file_offset { 0 };
};

struct VcpuSnapshot {
    std::vector<kvm_cpuid_entry2> cpuid; // what the vCPU was given: the guest already relies on it
    kvm_regs regs {};
    kvm_sregs sregs {};
    std::vector<uint8_t> xsave; // KVM_GET_XSAVE(2) area: 4096 bytes, more with AMX
    kvm_xcrs xcrs {};
    kvm_lapic_state lapic {};
    std::vector<kvm_msr_entry> msrs; // every MSR KVM lists as saveable and could read
    kvm_mp_state mp_state {};
    kvm_vcpu_events events {};
    kvm_debugregs debugregs {};
    uint32_t tsc_khz { 0 }; // 0: unknown (the restore then cannot advance the TSC)
};

struct VmSnapshot {
    kvm_irqchip pic_master {};
    kvm_irqchip pic_slave {};
    kvm_irqchip ioapic {};
    kvm_clock_data clock {};
    // Host CLOCK_REALTIME when the state was read: a restore advances the guest clocks by the time
    // since then, so the clone's wall clock is right.
    int64_t host_realtime_ns { 0 };
};

// One virtio-mmio slot. The device-specific fields are those of its type.
struct VirtioSlotSnapshot {
    uint32_t device_type { 0 };
    MmioTransportState transport;
    uint64_t vsock_guest_cid { 0 }; // vsock
    uint32_t vsock_next_host_port { 0 }; // vsock: host-initiated streams go on from here
    uint64_t disk_size_bytes { 0 }; // blk: the image must have this size at restore
    bool disk_read_only { false }; // blk
    // virtio-9p: the tag and mode a restore must serve again, and the guest's 9P session.
    std::string share_tag;
    bool share_read_only { false };
    bool share_guest_owners { false };
    ShareSession share_session;
    std::array<uint8_t, 6> net_mac {}; // virtio-net: the guest's eth0 has it; a restore keeps it
};

struct MachineSnapshot {
    uint64_t memory_bytes { 0 };
    std::vector<MemoryRegionSnapshot> regions;
    std::vector<VcpuSnapshot> vcpus;
    VmSnapshot vm;
    SerialState serial;
    I8042State i8042;
    StatusDeviceState status;
    std::vector<VirtioSlotSnapshot> virtio; // slot order
};

} // namespace husk

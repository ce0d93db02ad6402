// virtio-mmio version 2 register map (virtio 1.2 §4.2.2): offsets from the device's base address.
// Registers are 32 bits wide; the device-specific config space starts at `config`.
#pragma once

#include <cstdint>

namespace husk::virtio::mmio {

inline constexpr uint64_t magic_value = 0x000; // R: "virt"
inline constexpr uint64_t version = 0x004; // R: 2 (non-legacy)
inline constexpr uint64_t device_id = 0x008; // R
inline constexpr uint64_t vendor_id = 0x00c; // R
inline constexpr uint64_t device_features = 0x010; // R: 32 bits selected by device_features_sel
inline constexpr uint64_t device_features_sel = 0x014; // W
inline constexpr uint64_t driver_features = 0x020; // W: 32 bits selected by driver_features_sel
inline constexpr uint64_t driver_features_sel = 0x024; // W
inline constexpr uint64_t queue_sel = 0x030; // W
inline constexpr uint64_t queue_num_max = 0x034; // R: 0 when the selected queue does not exist
inline constexpr uint64_t queue_num = 0x038; // W
inline constexpr uint64_t queue_ready = 0x044; // RW
inline constexpr uint64_t queue_notify = 0x050; // W: queue index
inline constexpr uint64_t interrupt_status = 0x060; // R
inline constexpr uint64_t interrupt_ack = 0x064; // W
inline constexpr uint64_t status = 0x070; // RW
inline constexpr uint64_t queue_desc_low = 0x080; // W
inline constexpr uint64_t queue_desc_high = 0x084; // W
inline constexpr uint64_t queue_driver_low = 0x090; // W: available ring
inline constexpr uint64_t queue_driver_high = 0x094; // W
inline constexpr uint64_t queue_device_low = 0x0a0; // W: used ring
inline constexpr uint64_t queue_device_high = 0x0a4; // W
inline constexpr uint64_t shm_sel = 0x0ac; // W: shared memory region (none in husk)
inline constexpr uint64_t shm_len_low = 0x0b0; // R
inline constexpr uint64_t shm_len_high = 0x0b4; // R
inline constexpr uint64_t shm_base_low = 0x0b8; // R
inline constexpr uint64_t shm_base_high = 0x0bc; // R
inline constexpr uint64_t config_generation = 0x0fc; // R
inline constexpr uint64_t config = 0x100; // device-specific config space

inline constexpr uint32_t register_width = 4;
inline constexpr uint32_t magic = 0x74726976; // "virt" in little-endian ASCII
inline constexpr uint32_t version_2 = 2;
inline constexpr uint32_t vendor_husk = 0x4b535548; // "HUSK" in little-endian ASCII
inline constexpr uint32_t shm_absent = 0xffffffff; // length/base of a region that does not exist

// The MMIO window a VMM should reserve per device: registers plus a page of config space.
inline constexpr uint64_t window_size = 0x1000;

} // namespace husk::virtio::mmio

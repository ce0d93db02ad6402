// The snapshot state file (docs/snapshots.md): a 32-byte header (magic "HUSKSNAP", format
// version, body length, CRC-32C of the body) and a body of tagged sections, each field at its
// own width, little-endian. decode_snapshot() checks, in this order, the magic, the version, the
// length (truncation, trailing bytes), the checksum, every section and field, and the vCPU count
// and memory size the caller expects; each failure is one line naming what is wrong.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/snapshot/machine_snapshot.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace husk {

namespace snapshot_format {
    inline constexpr char magic[8] = { 'H', 'U', 'S', 'K', 'S', 'N', 'A', 'P' };
    // Bump on any change of the body's layout: another build then refuses the file by name.
    // 2: no PIT state (husk VMs have no PIT); virtio-9p slots carry their share and 9P session.
    inline constexpr uint32_t version = 2;
    inline constexpr size_t header_size = 32;
    // Far above any real state (32 vCPUs with AMX are under 1 MiB): a bigger length is corrupt.
    inline constexpr uint64_t max_body_size = 16ull << 20;
    inline constexpr uint64_t max_file_size = header_size + max_body_size;
    inline constexpr uint32_t max_vcpus = 32;
    inline constexpr uint32_t max_regions = 8;
    inline constexpr uint32_t max_virtio_slots = 32;
    inline constexpr uint32_t max_queues = 16;
    inline constexpr size_t min_xsave_size = 4096; // struct kvm_xsave in C
    inline constexpr size_t max_xsave_size = 64 * 1024;
    inline constexpr uint32_t max_msrs = 1024;
    inline constexpr uint32_t max_cpuid_entries = 256;
    // virtio-9p slots (runtime/share/share_session.hpp).
    inline constexpr size_t max_share_tag = 64; // p9::max_tag_length
    inline constexpr uint32_t max_share_fids = 65536; // Linux holds a few per cached dentry
    inline constexpr size_t max_share_path = 4095; // PATH_MAX less its NUL
    inline constexpr uint32_t min_share_msize = 4096; // p9::min_msize
    inline constexpr uint32_t max_share_msize = 1u << 20; // ShareServer::max_msize
    inline constexpr char const* state_file_name = "state";
    inline constexpr char const* memory_file_name = "memory";
} // namespace snapshot_format

// The two files of a snapshot directory.
inline std::string snapshot_state_path(std::string const& directory)
{
    return directory + "/" + snapshot_format::state_file_name;
}
inline std::string snapshot_memory_path(std::string const& directory)
{
    return directory + "/" + snapshot_format::memory_file_name;
}

// What the restoring side asks for; unset fields are taken from the file.
struct SnapshotExpectations {
    std::optional<unsigned> vcpus;
    std::optional<uint64_t> memory_bytes;
};

std::vector<uint8_t> encode_snapshot(MachineSnapshot const& snapshot);
Result<MachineSnapshot> decode_snapshot(std::span<uint8_t const> file, SnapshotExpectations const& expected = {});

} // namespace husk

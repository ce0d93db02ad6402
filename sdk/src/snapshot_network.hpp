// What a restore without root needs from a snapshot's state file before husk-vmm starts: the
// guest's network device as the guest left it. passt learns the guest's MAC from the probe the
// SDK sends it (sdk/src/passt_network.hpp), and a restored guest keeps the MAC it had at the
// snapshot, so the probe must come from that one: frames passt sent to any other would be
// dropped by the guest until it sent a frame itself.
#pragma once

#include "runtime/base/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace husk::detail {

struct SnapshotNetwork {
    std::array<uint8_t, 6> mac {}; // the guest's eth0 has it, and keeps it in every clone
    // The guest negotiated checksum offloads, which only a tap offers: it was on a jailed
    // network, and a stream device (passt) cannot take it back.
    bool offloads { false };
};

// Reads and checks `directory`/state as husk-vmm does (magic, version, length, checksum, every
// field) and returns its virtio-net device, or nullopt when the snapshotted VM had none.
// Errors (BadConfig) name the file and what is wrong with it.
Result<std::optional<SnapshotNetwork>> read_snapshot_network(std::string const& directory);

} // namespace husk::detail

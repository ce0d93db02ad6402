// The least a snapshot state file decodes with: 64 MiB of RAM in one region and one vCPU with an
// empty XSAVE area, no devices. Tests add the slots they are about.
#pragma once

#include "runtime/snapshot/snapshot_format.hpp"

namespace husk::testing_snapshot {

inline MachineSnapshot minimal_machine_snapshot()
{
    MachineSnapshot snapshot;
    snapshot.memory_bytes = 64ull << 20;
    snapshot.regions = { { 0, 64ull << 20, 0 } };
    VcpuSnapshot vcpu;
    vcpu.xsave.assign(snapshot_format::min_xsave_size, 0);
    snapshot.vcpus.push_back(vcpu);
    return snapshot;
}

} // namespace husk::testing_snapshot

// The two files of a snapshot directory (docs/snapshots.md): `state` (snapshot_format.hpp) and
// `memory` (the guest RAM, regions back to back, zero pages as holes). Loading reads and checks
// the state file and opens the memory file for Machine::restore, which maps it.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/snapshot/machine_snapshot.hpp"
#include "runtime/snapshot/snapshot_format.hpp"

#include <string>

namespace husk {

struct LoadedSnapshot {
    MachineSnapshot state;
    Fd memory_file; // read-only; mapped MAP_PRIVATE
};

// Every refusal is one line that names the file and what is wrong with it.
Result<LoadedSnapshot> load_snapshot(std::string const& directory, SnapshotExpectations const& expected);

} // namespace husk

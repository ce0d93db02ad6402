// The virtio-9p part of a snapshot's VIRT section (docs/snapshots.md): the share's tag and mode
// and its 9P session (ShareSession). The reader checks every count, length and value, and every
// fid path's shape (relative, components that are names, never "." or ".."), so what reaches
// ShareServer::restore_session is only ever a confined relative path.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/snapshot/machine_snapshot.hpp"
#include "runtime/snapshot/state_decoder.hpp"
#include "runtime/snapshot/state_encoder.hpp"

namespace husk {

void put_share_slot(StateEncoder& out, VirtioSlotSnapshot const& slot);
Result<void> get_share_slot(StateDecoder& in, VirtioSlotSnapshot& slot);

} // namespace husk

// ShareSession: what a snapshot keeps of one 9P session (docs/snapshots.md): the negotiated
// msize and every fid the guest holds, by its path relative to the share root, never a host
// path. Plain data: ShareServer::save_session fills it on the event thread of a paused VM,
// snapshot_format stores it in the slot's VIRT section, ShareServer::restore_session resolves
// every fid again beneath the (possibly different) directory served under the same tag.
#pragma once

#include <cstdint>
#include <fcntl.h>
#include <string>
#include <vector>

namespace husk {

enum class SavedFidState : uint8_t {
    Named = 0, // a walked or attached fid: a name, resolved again at every use
    Stale = 1, // its name no longer resolved at the snapshot: it answers ENOENT as it did then
    Open = 2, // opened (Tlopen/Tlcreate): reopened at restore with `open_flags`
};

struct SavedShareFid {
    uint32_t fid { 0 };
    std::string path; // relative to the share root; "" is the root
    uint32_t uid { 0 }; // the guest user it was attached as
    uint8_t qid_type { 0 }; // p9::qid_type: directory, symlink or file
    SavedFidState state { SavedFidState::Named };
    // Open fids: the host open(2) flags that matter again at a reopen (access mode, O_APPEND,
    // O_DSYNC, O_SYNC); 0 otherwise. Creation and truncation flags are never kept.
    uint32_t open_flags { 0 };
};

struct ShareSession {
    uint32_t msize { 0 };
    std::vector<SavedShareFid> fids; // ascending fid numbers
};

// The flags SavedShareFid::open_flags may hold.
inline constexpr uint32_t saved_open_flags_mask = O_ACCMODE | O_APPEND | O_DSYNC | O_SYNC;

} // namespace husk

// AddressLease: one sandbox's claim on a slot of the address pool (sandbox_addresses.hpp).
// A slot is held through the lock file <directory>/slot-<n> (the directory is /run/husk/net,
// root's, 0700), opened O_NOFOLLOW and flock()ed for the sandbox's life: two launchers can never
// hold the same slot, and a launcher killed with -9 frees its slot by dying. The lock file
// also records the jail id, for people looking at /run/husk/net.
// A slot whose lock file is there but unlocked was left by a dead holder: its leftovers
// (netns, veth, table, DNS forwarder) are removed by the claimer (network_reaper.hpp) first.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>

namespace husk {

inline constexpr char const* default_network_state_directory = "/run/husk/net";

class AddressLease {
public:
    AddressLease() = default;
    AddressLease(AddressLease&& other) noexcept = default;
    AddressLease& operator=(AddressLease&& other) noexcept;
    AddressLease(AddressLease const&) = delete;
    AddressLease& operator=(AddressLease const&) = delete;
    ~AddressLease() { release(); }

    // Claims the first free slot at or after `first_choice` (wrapping around the pool).
    static Result<AddressLease> claim(std::string const& directory, uint32_t first_choice, std::string const& owner);

    // Locks the slot only if its file is there and nobody holds it (the reaper's way in).
    static Result<AddressLease> claim_if_abandoned(std::string const& directory, uint32_t slot);

    uint32_t slot() const { return m_slot; }
    bool held() const { return m_lock.is_valid(); }
    // Unlinks the lock file under the lock, then unlocks: a waiter that locked the old file sees
    // it unlinked and retries.
    void release();
    // Unlocks but keeps the lock file: the slot stays marked abandoned, for the reaper to retry
    // when removing its network failed.
    void abandon()
    {
        m_lock.reset();
        m_directory.reset();
    }

private:
    AddressLease(Fd directory, Fd lock, uint32_t slot)
        : m_directory(std::move(directory))
        , m_lock(std::move(lock))
        , m_slot(slot)
    {
    }

    Fd m_directory;
    Fd m_lock;
    uint32_t m_slot { 0 };
};

// Opens (creating with 0700) the state directory; refuses one that is a symlink, not owned by
// this user or writable by group or others.
Result<Fd> open_network_state_directory(std::string const& directory);

} // namespace husk

// A uid/gid of its own for each jailed VM. A VMM that a guest took over then shares its uid with
// no account and no other VM: it cannot signal, ptrace or read the files of either.
//
// The ids come from a fixed range no account uses (jail_id_range below). Each VM holds one while
// it lives: the lock file <directory>/<id> (the directory is /run/husk/ids, root-owned, 0700,
// see private_directory.hpp) is created with O_NOFOLLOW and flock()ed for the sandbox's whole
// life. The kernel drops the lock when the holder dies, so a crashed host process frees its ids
// without any cleanup; a release removes the file while still holding the lock, and an
// allocation that finds its locked file already unlinked tries again, so a release never races
// an allocation into handing one id out twice.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>

namespace husk::detail {

struct JailIdRange {
    uint32_t first;
    uint32_t count;
};

// 1900000000..1900065535: inside 1879048192..2147352575, which systemd's "Users, Groups, UIDs and
// GIDs" document leaves unassigned (after the container ranges, before its foreign-uid range),
// and far above the /etc/subuid ranges useradd hands out (up to 600100000 by default). uid and
// gid are the same number.
inline constexpr JailIdRange jail_id_range { 1'900'000'000u, 65'536u };

// One allocated id; releases it (removes its lock file, then unlocks) when destroyed.
class JailIdLease {
public:
    JailIdLease(JailIdLease&& other) noexcept = default;
    JailIdLease& operator=(JailIdLease&& other) noexcept;
    JailIdLease(JailIdLease const&) = delete;
    ~JailIdLease() { release(); }

    uint32_t id() const { return m_id; }
    // False once released (or moved from).
    bool held() const { return m_lock.is_valid(); }
    void release();

private:
    friend Result<JailIdLease> allocate_jail_id(Fd const& directory, JailIdRange range);
    JailIdLease(Fd directory, Fd lock, uint32_t id)
        : m_directory(std::move(directory))
        , m_lock(std::move(lock))
        , m_id(id)
    {
    }

    Fd m_directory; // a duplicate of the lock directory's descriptor
    Fd m_lock; // the flock()ed lock file; invalid once released
    uint32_t m_id { 0 };
};

// The lowest id of `range` nobody holds. `directory` is the lock directory, opened by
// open_private_directory(). Fails with a clear message when every id is held.
Result<JailIdLease> allocate_jail_id(Fd const& directory, JailIdRange range = jail_id_range);

} // namespace husk::detail

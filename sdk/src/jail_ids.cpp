// allocate_jail_id and JailIdLease: lock files in the id directory, flock()ed, O_NOFOLLOW.
#include "sdk/src/jail_ids.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::detail {

namespace {

    constexpr mode_t lock_mode = 0600;
    // A lock file found unlinked right after locking means its holder released it meanwhile;
    // the same id is tried again, but not forever.
    constexpr int relock_attempts = 8;

    enum class Attempt { Taken, Held, Retry };

    struct Locked {
        Attempt attempt;
        Fd lock;
    };

    Result<Locked> try_lock(int directory, uint32_t id)
    {
        std::string name = std::to_string(id);
        int fd = ::openat(directory, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, lock_mode);
        if (fd < 0)
            return fail_errno("opening the jail id lock file " + name + " (symlinks are refused)");
        Fd lock(fd);
        struct stat opened { };
        if (::fstat(lock.get(), &opened) != 0)
            return fail_errno("stat of the jail id lock file " + name);
        if (!S_ISREG(opened.st_mode) || opened.st_nlink > 1 || opened.st_uid != ::geteuid())
            return fail("the jail id lock file " + name + " is not a plain file of this user with one link");
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                return Locked { Attempt::Held, Fd() };
            return fail_errno("flock of the jail id lock file " + name);
        }
        // Still the file the directory names? A releaser unlinks under the lock, so a locked
        // file that is gone (or replaced) from the directory was someone else's, released.
        struct stat named { };
        if (::fstatat(directory, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_ino != opened.st_ino
            || named.st_dev != opened.st_dev)
            return Locked { Attempt::Retry, Fd() };
        return Locked { Attempt::Taken, std::move(lock) };
    }

} // namespace

JailIdLease& JailIdLease::operator=(JailIdLease&& other) noexcept
{
    if (this != &other) {
        release();
        m_directory = std::move(other.m_directory);
        m_lock = std::move(other.m_lock);
        m_id = other.m_id;
    }
    return *this;
}

void JailIdLease::release()
{
    if (!m_lock.is_valid())
        return;
    // Unlink while the lock is held: whoever locks the old file next sees it unlinked and retries.
    (void)::unlinkat(m_directory.get(), std::to_string(m_id).c_str(), 0);
    m_lock.reset();
    m_directory.reset();
}

Result<JailIdLease> allocate_jail_id(Fd const& directory, JailIdRange range)
{
    if (range.count == 0 || range.first == 0 || uint64_t(range.first) + range.count > 0xffff'ffffull)
        return fail(ErrorKind::BadConfig, "the jail id range must be non-empty, above 0 and below 2^32-1");
    for (uint32_t offset = 0; offset < range.count; ++offset) {
        uint32_t id = range.first + offset;
        for (int attempt = 0; attempt < relock_attempts; ++attempt) {
            auto locked = TRY(try_lock(directory.get(), id));
            if (locked.attempt == Attempt::Held)
                break;
            if (locked.attempt == Attempt::Taken) {
                int copy = ::fcntl(directory.get(), F_DUPFD_CLOEXEC, 0);
                if (copy < 0)
                    return fail_errno("duplicating the jail id directory descriptor");
                return JailIdLease(Fd(copy), std::move(locked.lock), id);
            }
        }
    }
    return fail(ErrorKind::VmmStartFailed,
        "all " + std::to_string(range.count) + " jail ids (" + std::to_string(range.first) + ".."
            + std::to_string(uint64_t(range.first) + range.count - 1)
            + ") are in use: too many jailed VMs on this host at once");
}

} // namespace husk::detail

// AddressLease: flock()ed lock files, one per pool slot.
#include "runtime/net/address_lease.hpp"

#include "runtime/base/log.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr mode_t lock_mode = 0600;
    constexpr mode_t directory_mode = 0700;
    // A lock file found unlinked right after locking was released meanwhile; the same slot is
    // tried again, but not forever.
    constexpr int relock_attempts = 8;

    enum class Attempt { Taken, Held, Retry, Absent };

    struct Locked {
        Attempt attempt;
        Fd lock;
    };

    std::string lock_name(uint32_t slot) { return "slot-" + std::to_string(slot); }

    Result<Locked> try_lock(int directory, uint32_t slot, int create_flag)
    {
        auto name = lock_name(slot);
        int fd = ::openat(directory, name.c_str(), O_RDWR | create_flag | O_NOFOLLOW | O_CLOEXEC, lock_mode);
        if (fd < 0) {
            if (errno == ENOENT && create_flag == 0)
                return Locked { Attempt::Absent, Fd() };
            return fail_errno("opening the address lock file " + name + " (symlinks are refused)");
        }
        Fd lock(fd);
        struct stat opened { };
        if (::fstat(lock.get(), &opened) != 0)
            return fail_errno("stat of the address lock file " + name);
        if (!S_ISREG(opened.st_mode) || opened.st_nlink > 1 || opened.st_uid != ::geteuid())
            return fail("the address lock file " + name + " is not a plain file of this user with one link");
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                return Locked { Attempt::Held, Fd() };
            return fail_errno("flock of the address lock file " + name);
        }
        // Still the file the directory names? A releaser unlinks under the lock.
        struct stat named { };
        if (::fstatat(directory, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_ino != opened.st_ino
            || named.st_dev != opened.st_dev)
            return Locked { Attempt::Retry, Fd() };
        return Locked { Attempt::Taken, std::move(lock) };
    }

    Result<Fd> duplicate(Fd const& directory)
    {
        int copy = ::fcntl(directory.get(), F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
            return fail_errno("duplicating the address lock directory descriptor");
        return Fd(copy);
    }
} // namespace

Result<Fd> open_network_state_directory(std::string const& directory)
{
    // Missing parents (/run/husk on a fresh boot) are made root-only like the directory itself.
    for (auto slash = directory.find('/', 1); slash != std::string::npos; slash = directory.find('/', slash + 1)) {
        auto parent = directory.substr(0, slash);
        if (::mkdir(parent.c_str(), directory_mode) != 0 && errno != EEXIST)
            return fail_errno("creating " + parent);
    }
    if (::mkdir(directory.c_str(), directory_mode) != 0 && errno != EEXIST)
        return fail_errno("creating " + directory);
    auto fd = TRY_CONTEXT(Fd::open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
        "opening " + directory + " (symlinks are refused)");
    struct stat info { };
    if (::fstat(fd.get(), &info) != 0)
        return fail_errno("stat of " + directory);
    if (info.st_uid != ::geteuid() || (info.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return fail(directory + " must be owned by this user and writable by nobody else");
    return fd;
}

AddressLease& AddressLease::operator=(AddressLease&& other) noexcept
{
    if (this != &other) {
        release();
        m_directory = std::move(other.m_directory);
        m_lock = std::move(other.m_lock);
        m_slot = other.m_slot;
    }
    return *this;
}

void AddressLease::release()
{
    if (!m_lock.is_valid())
        return;
    (void)::unlinkat(m_directory.get(), lock_name(m_slot).c_str(), 0);
    m_lock.reset();
    m_directory.reset();
}

Result<AddressLease> AddressLease::claim(std::string const& directory, uint32_t first_choice, std::string const& owner)
{
    auto state = TRY(open_network_state_directory(directory));
    for (uint32_t offset = 0; offset < sandbox_slot_count; ++offset) {
        uint32_t slot = (first_choice + offset) % sandbox_slot_count;
        for (int attempt = 0; attempt < relock_attempts; ++attempt) {
            auto locked = TRY(try_lock(state.get(), slot, O_CREAT));
            if (locked.attempt == Attempt::Held)
                break;
            if (locked.attempt == Attempt::Taken) {
                // The record only tells people looking at the directory who holds the slot; the
                // lock is the lease, so a record that could not be written costs a warning only.
                std::string record = owner + "\n";
                if (::ftruncate(locked.lock.get(), 0) != 0
                    || ::pwrite(locked.lock.get(), record.data(), record.size(), 0) != ssize_t(record.size()))
                    log_warn(Error::from_errno("network slot " + std::to_string(slot) + ": writing its owner").message);
                return AddressLease(TRY(duplicate(state)), std::move(locked.lock), slot);
            }
        }
    }
    return fail("all " + std::to_string(sandbox_slot_count)
        + " sandbox network slots are in use: too many networked sandboxes on this host at once");
}

Result<AddressLease> AddressLease::claim_if_abandoned(std::string const& directory, uint32_t slot)
{
    auto state = TRY(open_network_state_directory(directory));
    auto locked = TRY(try_lock(state.get(), slot, 0));
    if (locked.attempt != Attempt::Taken)
        return AddressLease();
    return AddressLease(TRY(duplicate(state)), std::move(locked.lock), slot);
}

} // namespace husk

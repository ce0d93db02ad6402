// DirectoryWatch: wakes a waiter when a name appears in a directory (inotify), so libhusk connects
// to husk-vmm's vsock socket as soon as it is bound instead of at its next retry.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <chrono>
#include <string>

namespace husk::detail {

class DirectoryWatch {
public:
    // Watches `directory` for names created in or moved into it from now on.
    static Result<DirectoryWatch> create(std::string const& directory);

    // True once a name appeared since create() or the last wait() that returned true (events
    // already queued count); false after `timeout` without one.
    bool wait(std::chrono::milliseconds timeout);

private:
    explicit DirectoryWatch(Fd inotify)
        : m_inotify(std::move(inotify))
    {
    }
    Fd m_inotify;
};

} // namespace husk::detail

// DirectoryWatch: one inotify instance, one watch, drained on each wake.
#include "sdk/src/directory_watch.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace husk::detail {

Result<DirectoryWatch> DirectoryWatch::create(std::string const& directory)
{
    Fd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify.is_valid())
        return fail_errno("inotify_init1");
    if (::inotify_add_watch(inotify.get(), directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0)
        return fail_errno("inotify_add_watch " + directory);
    return DirectoryWatch(std::move(inotify));
}

bool DirectoryWatch::wait(std::chrono::milliseconds timeout)
{
    pollfd readable { m_inotify.get(), POLLIN, 0 };
    int ready;
    do
        ready = ::poll(&readable, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    if (ready <= 0)
        return false;
    // Drained: what matters is that something appeared, the caller looks for its name itself.
    alignas(inotify_event) char events[4096];
    while (::read(m_inotify.get(), events, sizeof events) > 0) { }
    return true;
}

} // namespace husk::detail

// open_private_directory: mkdirat + openat(O_NOFOLLOW) + fstat checks, component by component.
#include "sdk/src/private_directory.hpp"

#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::detail {

namespace {

    Result<void> check_private(int fd, std::string const& shown)
    {
        struct stat info { };
        if (::fstat(fd, &info) != 0)
            return fail_errno("stat of \"" + shown + "\"");
        if (!S_ISDIR(info.st_mode))
            return fail("\"" + shown + "\" is not a directory");
        if (info.st_uid != ::geteuid())
            return fail("\"" + shown + "\" is owned by uid " + std::to_string(info.st_uid) + ", not by uid "
                + std::to_string(::geteuid()) + "; refusing to keep husk state there");
        if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0)
            return fail("\"" + shown + "\" is writable by other users; refusing to keep husk state there");
        return {};
    }

} // namespace

Result<Fd> open_private_directory(std::string const& base, std::string const& relative, mode_t mode)
{
    auto current = TRY(Fd::open(base, O_PATH | O_DIRECTORY | O_CLOEXEC));
    std::string shown = base;
    std::istringstream components(relative);
    std::string name;
    bool any = false;
    while (std::getline(components, name, '/')) {
        if (name.empty())
            continue;
        if (name == "." || name == "..")
            return fail("\"" + relative + "\" must not hold . or ..");
        shown += "/" + name;
        if (::mkdirat(current.get(), name.c_str(), mode) != 0 && errno != EEXIST)
            return fail_errno("creating \"" + shown + "\"");
        int next = ::openat(current.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                return fail("\"" + shown + "\" is a symlink or not a directory; refusing to follow it");
            return fail_errno("opening \"" + shown + "\"");
        }
        current = Fd(next);
        TRY(check_private(current.get(), shown));
        any = true;
    }
    if (!any)
        return fail("no directory below \"" + base + "\" given");
    return current;
}

} // namespace husk::detail

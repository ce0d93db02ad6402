#include "runtime/base/openat2.hpp"

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

int openat2_retrying(int directory, char const* path, open_how const& how)
{
    long fd;
    do
        fd = ::syscall(SYS_openat2, directory, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    return fd < 0 ? -errno : static_cast<int>(fd);
}

} // namespace husk

// BlockImage: opening and checking a raw image file.
#include "runtime/block/block_image.hpp"

#include "runtime/base/log.hpp"

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>

namespace husk {

Result<BlockImage> BlockImage::create(std::string const& path, BlockAccess access)
{
    // O_NOFOLLOW is not used: images are often symlinks into a cache. O_NONBLOCK keeps a FIFO
    // named by mistake from hanging the open; fstat refuses it right after.
    int flags = (access == BlockAccess::ReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
    auto fd = TRY_CONTEXT(Fd::open(path, flags), "disk image " + path);
    struct stat info { };
    if (::fstat(fd.get(), &info) != 0)
        return fail_errno("disk image " + path + ": fstat");
    if (!S_ISREG(info.st_mode))
        return fail("disk image " + path + " is not a regular file");
    // Regular files ignore O_NONBLOCK for I/O, but clear it so nothing depends on that.
    if (::fcntl(fd.get(), F_SETFL, 0) != 0)
        return fail_errno("disk image " + path + ": fcntl");
    auto size = static_cast<uint64_t>(info.st_size);
    if (size % 512 != 0)
        log_warn("disk image " + path + " is not a whole number of 512-byte sectors; the last "
            + std::to_string(size % 512) + " bytes are not visible to the guest");
    char id[32];
    std::snprintf(id, sizeof id, "husk-%llx-%llx", static_cast<unsigned long long>(info.st_dev),
        static_cast<unsigned long long>(info.st_ino));
    return BlockImage(std::move(fd), size - size % 512, access, id);
}

} // namespace husk

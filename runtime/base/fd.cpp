// Fd ownership and whole-buffer I/O helpers.
#include "runtime/base/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace husk {

Fd& Fd::operator=(Fd&& other) noexcept
{
    if (this != &other) {
        reset();
        m_fd = other.release();
    }
    return *this;
}

Result<Fd> Fd::open(std::string const& path, int flags, int mode)
{
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        return fail_errno("cannot open " + path);
    return Fd(fd);
}

int Fd::release()
{
    int fd = m_fd;
    m_fd = -1;
    return fd;
}

void Fd::reset()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

Result<void> write_all(int fd, void const* data, size_t size)
{
    auto const* bytes = static_cast<char const*>(data);
    while (size > 0) {
        ssize_t written = ::write(fd, bytes, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("write");
        }
        bytes += written;
        size -= static_cast<size_t>(written);
    }
    return {};
}

Result<size_t> read_full(int fd, void* data, size_t size)
{
    auto* bytes = static_cast<char*>(data);
    size_t total = 0;
    while (total < size) {
        ssize_t got = ::read(fd, bytes + total, size - total);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("read");
        }
        if (got == 0)
            break;
        total += static_cast<size_t>(got);
    }
    return total;
}

Result<std::string> read_file(std::string const& path, size_t max_size)
{
    auto fd = TRY(Fd::open(path, O_RDONLY));
    std::string contents;
    char buffer[65536];
    for (;;) {
        auto got = TRY_CONTEXT(read_full(fd.get(), buffer, sizeof buffer), path);
        if (contents.size() + got > max_size)
            return fail(path + ": larger than " + std::to_string(max_size) + " bytes");
        contents.append(buffer, got);
        if (got < sizeof buffer)
            return contents;
    }
}

} // namespace husk

// Image mapping and serial output opening.
#include "runtime/vmm/host_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace husk {

Result<MappedImage> MappedImage::open(std::string const& path, uint64_t max_size, char const* what)
{
    std::string prefix = std::string(what) + " " + path;
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0)
        return fail_errno(prefix);
    Fd fd(raw);
    struct stat status { };
    if (::fstat(fd.get(), &status) < 0)
        return fail_errno(prefix + ": fstat");
    if (!S_ISREG(status.st_mode))
        return fail(prefix + ": not a regular file");
    auto size = static_cast<uint64_t>(status.st_size);
    if (size == 0)
        return fail(prefix + ": empty file");
    if (size > max_size)
        return fail(prefix + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(max_size)
            + " this VM can hold");
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (mapping == MAP_FAILED)
        return fail_errno(prefix + ": mmap");
    return MappedImage(std::move(fd), static_cast<uint8_t const*>(mapping), size);
}

MappedImage::MappedImage(MappedImage&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_data(std::exchange(other.m_data, nullptr))
    , m_size(std::exchange(other.m_size, 0))
{
}

MappedImage::~MappedImage()
{
    if (m_data != nullptr)
        ::munmap(const_cast<uint8_t*>(m_data), m_size);
}

namespace {
    Result<Fd> share_standard_stream(int fd, char const* name)
    {
        struct stat status { };
        if (::fstat(fd, &status) < 0)
            return fail_errno(std::string("serial output to ") + name);
        if (S_ISFIFO(status.st_mode) || S_ISCHR(status.st_mode)) {
            std::string self = "/proc/self/fd/" + std::to_string(fd);
            int reopened = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (reopened >= 0)
                return Fd(reopened);
            // No /proc or a pipe we may not reopen: fall back to a blocking duplicate.
        }
        int duplicate = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (duplicate < 0)
            return fail_errno(std::string("serial output to ") + name + ": dup");
        return Fd(duplicate);
    }
} // namespace

Result<Fd> open_serial_output(SerialOutput const& output)
{
    switch (output.kind) {
    case SerialOutput::Kind::None:
        return Fd();
    case SerialOutput::Kind::Stdout:
        return share_standard_stream(STDOUT_FILENO, "stdout");
    case SerialOutput::Kind::Stderr:
        return share_standard_stream(STDERR_FILENO, "stderr");
    case SerialOutput::Kind::File: {
        if (output.path.empty())
            return fail("serial output: empty file path");
        constexpr mode_t file_mode = 0644;
        int fd
            = ::open(output.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, file_mode);
        if (fd < 0)
            return fail_errno("serial output file " + output.path);
        return Fd(fd);
    }
    }
    return fail("serial output: unknown kind");
}

} // namespace husk

// Fd: sole owner of a file descriptor; closes it on destruction. Every kernel object the
// runtime holds as a descriptor (KVM, VM, vCPU, eventfd, ring, socket) lives in one of these.
#pragma once

#include "runtime/base/result.hpp"

#include <string>

namespace husk {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd)
        : m_fd(fd)
    {
    }
    Fd(Fd&& other) noexcept
        : m_fd(other.release())
    {
    }
    Fd& operator=(Fd&& other) noexcept;
    Fd(Fd const&) = delete;
    Fd& operator=(Fd const&) = delete;
    ~Fd() { reset(); }

    static Result<Fd> open(std::string const& path, int flags, int mode = 0);

    int get() const { return m_fd; }
    bool is_valid() const { return m_fd >= 0; }
    int release();
    void reset();

private:
    int m_fd { -1 };
};

// Reads or writes the whole buffer, retrying on EINTR and short transfers.
Result<void> write_all(int fd, void const* data, size_t size);
Result<size_t> read_full(int fd, void* data, size_t size);
Result<std::string> read_file(std::string const& path, size_t max_size);

} // namespace husk

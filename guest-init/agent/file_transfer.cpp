// FileWriter and FileReader with pread/pwrite at explicit offsets.
#include "guest-init/agent/file_transfer.hpp"

#include "guest-init/agent/file_ops.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::agent {

using namespace protocol;

namespace {

    // O_NONBLOCK: opening a FIFO must not wait for its other end.
    constexpr int common_flags = O_CLOEXEC | O_NONBLOCK;
    // A path that vanishes between the exclusive create and the plain open is tried once more.
    constexpr int open_attempts = 2;

    std::optional<ErrorReply> require_regular(int fd, std::string const& what, std::string const& path)
    {
        struct stat info;
        if (fstat(fd, &info) < 0)
            return error_reply_from_errno(what, path, errno);
        if (S_ISDIR(info.st_mode))
            return error_reply_from_errno(what, path, EISDIR);
        if (!S_ISREG(info.st_mode))
            return ErrorReply { ErrorCode::Unsupported, what + " " + path + ": not a regular file" };
        return std::nullopt;
    }

} // namespace

std::variant<FileWriter, ErrorReply> FileWriter::open(FileWrite const& first)
{
    auto mode = static_cast<mode_t>(first.mode);
    int error = 0;
    for (int attempt = 0; attempt < open_attempts; ++attempt) {
        int fd = ::open(first.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | common_flags, mode);
        if (fd >= 0) {
            Fd created(fd);
            // open() applied the umask; the host asked for this exact mode.
            if (fchmod(created.get(), mode) < 0)
                return error_reply_from_errno("write", first.path, errno);
            return FileWriter(std::move(created), first.path);
        }
        if (errno != EEXIST)
            return error_reply_from_errno("write", first.path, errno);
        int truncate = first.offset == 0 ? O_TRUNC : 0;
        fd = ::open(first.path.c_str(), O_WRONLY | truncate | common_flags);
        if (fd >= 0) {
            Fd existing(fd);
            if (auto wrong = require_regular(existing.get(), "write", first.path))
                return *wrong;
            return FileWriter(std::move(existing), first.path);
        }
        error = errno;
        if (error != ENOENT)
            break;
    }
    return error_reply_from_errno("write", first.path, error);
}

std::optional<ErrorReply> FileWriter::write(FileWrite const& chunk)
{
    size_t done = 0;
    while (done < chunk.data.size()) {
        ssize_t written = pwrite(
            m_fd.get(), chunk.data.data() + done, chunk.data.size() - done, static_cast<off_t>(chunk.offset + done));
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return error_reply_from_errno("write", m_path, errno);
        }
        done += static_cast<size_t>(written);
    }
    return std::nullopt;
}

std::variant<FileReader, ErrorReply> FileReader::open(FileRead const& request)
{
    int fd = ::open(request.path.c_str(), O_RDONLY | common_flags);
    if (fd < 0)
        return error_reply_from_errno("read", request.path, errno);
    Fd file(fd);
    if (auto wrong = require_regular(file.get(), "read", request.path))
        return *wrong;
    return FileReader(std::move(file), request.path, request.offset, request.max_size);
}

std::variant<FileData, ErrorReply> FileReader::next_chunk()
{
    FileData chunk;
    chunk.data.resize(m_max_size);
    size_t filled = 0;
    // Short reads are not the end (a file in /proc returns a page at a time): only 0 is.
    while (filled < m_max_size) {
        ssize_t got = pread(m_fd.get(), chunk.data.data() + filled, m_max_size - filled, static_cast<off_t>(m_offset));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return error_reply_from_errno("read", m_path, errno);
        }
        if (got == 0) {
            chunk.eof = true;
            break;
        }
        filled += static_cast<size_t>(got);
        m_offset += static_cast<uint64_t>(got);
    }
    chunk.data.resize(filled);
    return chunk;
}

} // namespace husk::agent

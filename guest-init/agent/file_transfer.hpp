// File transfers that span several frames: a FileWrite operation keeps its file open across its
// chunks, a FileRead streams FileData chunks as the connection has room for them. Only regular
// files take part: a FIFO or device could block the agent or never end.
#pragma once

#include "guest-init/protocol/messages.hpp"
#include "runtime/base/fd.hpp"

#include <optional>
#include <string>
#include <variant>

namespace husk::agent {

class FileWriter {
public:
    // Opens for an operation's first chunk. A missing file is created with exactly `mode`; an
    // existing one keeps its mode and is truncated only when the chunk starts at offset 0 (a later
    // offset resumes an interrupted upload). Symlinks are followed, as by `cat > path`.
    static std::variant<FileWriter, protocol::ErrorReply> open(protocol::FileWrite const& first);

    // Writes the chunk's data at its offset; nothing on success.
    std::optional<protocol::ErrorReply> write(protocol::FileWrite const& chunk);

private:
    FileWriter(Fd fd, std::string path)
        : m_fd(std::move(fd))
        , m_path(std::move(path))
    {
    }
    Fd m_fd;
    std::string m_path;
};

class FileReader {
public:
    static std::variant<FileReader, protocol::ErrorReply> open(protocol::FileRead const& request);

    // The next chunk from the current offset: up to max_size bytes (full unless the end is near).
    // The chunk that reaches the end of the file has eof set; a file whose size is a multiple of
    // max_size ends with an empty eof chunk, since a full chunk cannot tell whether more follows.
    std::variant<protocol::FileData, protocol::ErrorReply> next_chunk();

private:
    FileReader(Fd fd, std::string path, uint64_t offset, uint32_t max_size)
        : m_fd(std::move(fd))
        , m_path(std::move(path))
        , m_offset(offset)
        , m_max_size(max_size)
    {
    }
    Fd m_fd;
    std::string m_path;
    uint64_t m_offset;
    uint32_t m_max_size;
};

} // namespace husk::agent

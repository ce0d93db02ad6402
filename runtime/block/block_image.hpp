// BlockImage: a raw disk image file opened for a virtio-blk backend. Only regular files are
// accepted (a device node or FIFO given by mistake, or by a hostile config, is refused); a
// read-only disk is opened O_RDONLY so not even a VMM bug can write to it. The disk's size is the
// file's size rounded down to whole 512-byte sectors.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>

namespace husk {

enum class BlockAccess : uint8_t { ReadWrite, ReadOnly };

class BlockImage {
public:
    static Result<BlockImage> create(std::string const& path, BlockAccess access);

    int fd() const { return m_fd.get(); }
    uint64_t size_bytes() const { return m_size_bytes; }
    BlockAccess access() const { return m_access; }
    bool is_read_only() const { return m_access == BlockAccess::ReadOnly; }
    // GET_ID answer: "husk-" and the file's device and inode in hex, stable for one file.
    std::string const& id() const { return m_id; }

private:
    BlockImage(Fd fd, uint64_t size_bytes, BlockAccess access, std::string id)
        : m_fd(std::move(fd))
        , m_size_bytes(size_bytes)
        , m_access(access)
        , m_id(std::move(id))
    {
    }

    Fd m_fd;
    uint64_t m_size_bytes { 0 };
    BlockAccess m_access { BlockAccess::ReadWrite };
    std::string m_id;
};

} // namespace husk

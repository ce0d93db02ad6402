// Host files a VM is built from or writes to: kernel and initrd images (mapped whole, size-capped,
// with errors naming the file) and the serial console's output descriptor.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "runtime/vmm/machine_config.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace husk {

// A read-only private mapping of a whole image file, and the file itself. Mapping instead of
// reading saves copying and zero-filling a buffer the size of the file (17 MiB for a vmlinux,
// most of it symbols the loader never touches); the loaders read headers from the mapping and
// copy the loadable bytes from it, or map them straight into guest RAM from file()
// (GuestMemory::write_from_file; Machine copies, see map_images_from_files there). The
// files are the host's own (kernel, initrd), not guest input; one truncated while a VM runs
// makes the guest (or husk-vmm) fault on the pages that are gone.
class MappedImage {
public:
    // A regular, non-empty file of at most `max_size` bytes. `what` ("kernel", "initrd") starts errors.
    static Result<MappedImage> open(std::string const& path, uint64_t max_size, char const* what);
    MappedImage(MappedImage&& other) noexcept;
    MappedImage& operator=(MappedImage&&) = delete;
    MappedImage(MappedImage const&) = delete;
    ~MappedImage();

    std::span<uint8_t const> bytes() const { return { m_data, m_size }; }
    MappableFile file() const { return { m_fd.get() }; }

private:
    MappedImage(Fd fd, uint8_t const* data, size_t size)
        : m_fd(std::move(fd))
        , m_data(data)
        , m_size(size)
    {
    }
    Fd m_fd;
    uint8_t const* m_data { nullptr };
    size_t m_size { 0 };
};

// A descriptor owned by the caller, or an invalid Fd for SerialOutput::Kind::None. Pipes and
// terminals are reopened non-blocking (a new open file description, so the flags of the
// caller's stdout/stderr stay untouched): a stalled reader then costs dropped console output,
// never a stalled vCPU. Regular files are shared as they are, keeping their offset.
Result<Fd> open_serial_output(SerialOutput const& output);

} // namespace husk

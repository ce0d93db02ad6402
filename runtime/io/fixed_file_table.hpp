// FixedFileTable: bookkeeping for the slots of an io_uring fixed-file table. Pure (no kernel
// calls) so it can be tested on its own; the event loop pairs each acquire/release with an
// io_uring_register_files_update on the same slot.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <vector>

namespace husk {

// An index into the ring's fixed-file table. Operations name files only through these, never by
// raw descriptor (the ring's restrictions require IOSQE_FIXED_FILE on every submission).
struct FixedFile {
    uint32_t index { 0 };
    bool operator==(FixedFile const&) const = default;
};

class FixedFileTable {
public:
    explicit FixedFileTable(uint32_t capacity);

    // Lowest free slot, so the table stays dense and slot numbers are predictable in logs.
    Result<FixedFile> acquire();
    Result<void> release(FixedFile file);
    bool is_registered(FixedFile file) const;

    uint32_t capacity() const { return static_cast<uint32_t>(m_used.size()); }
    uint32_t used() const { return m_used_count; }

private:
    std::vector<bool> m_used;
    uint32_t m_used_count { 0 };
};

} // namespace husk

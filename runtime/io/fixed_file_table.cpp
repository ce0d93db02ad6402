// FixedFileTable slot allocation.
#include "runtime/io/fixed_file_table.hpp"

#include <string>

namespace husk {

FixedFileTable::FixedFileTable(uint32_t capacity)
    : m_used(capacity, false)
{
}

Result<FixedFile> FixedFileTable::acquire()
{
    // Linear scan: tables hold tens of files and registration happens at device setup and on
    // vsock connects, never per request.
    for (uint32_t index = 0; index < m_used.size(); ++index) {
        if (!m_used[index]) {
            m_used[index] = true;
            ++m_used_count;
            return FixedFile { index };
        }
    }
    return fail("the io_uring fixed-file table is full (all " + std::to_string(m_used.size())
        + " slots in use); raise EventLoopConfig::fixed_file_count");
}

Result<void> FixedFileTable::release(FixedFile file)
{
    if (!is_registered(file))
        return fail("fixed file " + std::to_string(file.index) + " is not registered");
    m_used[file.index] = false;
    --m_used_count;
    return {};
}

bool FixedFileTable::is_registered(FixedFile file) const { return file.index < m_used.size() && m_used[file.index]; }

} // namespace husk

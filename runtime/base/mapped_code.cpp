// release_mapped_code: read-only PT_LOAD segments found with dl_iterate_phdr, advised away.
#include "runtime/base/mapped_code.hpp"

#include <cstdint>
#include <cstring>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

namespace husk {

namespace {
    int release_object(dl_phdr_info* object, size_t, void* data)
    {
        auto& release = *static_cast<MappedCodeRelease*>(data);
        // The vDSO is the kernel's own special mapping; madvise has no business there.
        if (object->dlpi_name && std::strstr(object->dlpi_name, "linux-vdso") != nullptr)
            return 0;
        auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        for (ElfW(Half) i = 0; i < object->dlpi_phnum; ++i) {
            auto const& segment = object->dlpi_phdr[i];
            if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) != 0 || segment.p_memsz == 0)
                continue;
            // The whole pages the segment maps (the loader maps it page by page, alone).
            uintptr_t start = (object->dlpi_addr + segment.p_vaddr) & ~(page - 1);
            uintptr_t end = (object->dlpi_addr + segment.p_vaddr + segment.p_memsz + page - 1) & ~(page - 1);
            if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) != 0) {
                ++release.refused;
                continue;
            }
            release.bytes += end - start;
            ++release.ranges;
        }
        return 0;
    }
} // namespace

MappedCodeRelease release_mapped_code()
{
    MappedCodeRelease release;
    ::dl_iterate_phdr(release_object, &release);
    return release;
}

} // namespace husk

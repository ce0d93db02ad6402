#include "arena.hpp"

#include "console.hpp"
#include "power.hpp"

#include <cstring>

namespace guest {

namespace {
    uint64_t next_free = arena_start;
}

uint64_t allocate(uint64_t size, uint64_t alignment)
{
    uint64_t start = (next_free + alignment - 1) & ~(alignment - 1);
    if (start + size > arena_end || start + size < start) {
        println("hostile: guest arena exhausted");
        finish(Verdict::SetupFailed);
    }
    next_free = start + size;
    memset(reinterpret_cast<void*>(start), 0, size);
    return start;
}

} // namespace guest

// Snapshot directory loading.
#include "runtime/vmm/snapshot_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace husk {

Result<LoadedSnapshot> load_snapshot(std::string const& directory, SnapshotExpectations const& expected)
{
    auto state_path = snapshot_state_path(directory);
    auto text = TRY_CONTEXT(read_file(state_path, snapshot_format::max_file_size + 1),
        "snapshot " + directory);
    auto bytes = std::span(reinterpret_cast<uint8_t const*>(text.data()), text.size());
    auto state = TRY_CONTEXT(decode_snapshot(bytes, expected), state_path);

    auto memory_path = snapshot_memory_path(directory);
    auto memory = TRY(Fd::open(memory_path, O_RDONLY | O_CLOEXEC));
    struct stat status { };
    if (::fstat(memory.get(), &status) < 0)
        return fail_errno(memory_path);
    if (!S_ISREG(status.st_mode))
        return fail(memory_path + " is not a regular file");
    if (static_cast<uint64_t>(status.st_size) != state.memory_bytes)
        return fail(memory_path + " has " + std::to_string(status.st_size) + " bytes; the state file says "
            + std::to_string(state.memory_bytes));
    return LoadedSnapshot { std::move(state), std::move(memory) };
}

} // namespace husk

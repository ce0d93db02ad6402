// Ring: RAII owner of one io_uring instance, set up the way docs/security.md describes:
// created disabled, a sparse fixed-file table registered, restrictions installed (an opcode
// allow-list, IOSQE_FIXED_FILE required on every submission, only file-table updates allowed as
// later register calls), io-wq worker counts bounded, and only then enabled.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <memory>
#include <vector>

struct io_uring;

namespace husk {

struct RingConfig {
    uint32_t queue_depth { 256 };
    uint32_t fixed_file_count { 64 };
    std::vector<uint8_t> allowed_kernel_opcodes; // IORING_OP_* numbers
    uint32_t max_bounded_workers { 2 };
    uint32_t max_unbounded_workers { 2 };
};

class Ring {
public:
    // Fails with one sentence naming the cause when io_uring is unavailable (sysctl
    // kernel.io_uring_disabled, seccomp, too old a kernel) so callers can report it as is.
    static Result<Ring> create(RingConfig const& config);

    io_uring* get() const { return m_ring.get(); }
    // Points slot at fd, or empties it when fd is -1.
    Result<void> update_file(uint32_t slot, int fd);

private:
    struct Deleter {
        void operator()(io_uring* ring) const;
    };
    explicit Ring(std::unique_ptr<io_uring, Deleter> ring)
        : m_ring(std::move(ring))
    {
    }

    std::unique_ptr<io_uring, Deleter> m_ring;
};

} // namespace husk

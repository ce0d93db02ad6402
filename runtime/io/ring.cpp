// Ring set-up: disabled ring, sparse file table, restrictions, worker limits, enable.
#include "runtime/io/ring.hpp"

#include <cstring>
#include <liburing.h>
#include <string>

namespace husk {

namespace {

    // Upper bound on the table: older kernels cap fixed files at 1 << 15 and the VMM needs far fewer.
    constexpr uint32_t max_fixed_files = 1u << 15;
    constexpr uint32_t max_queue_depth = 4096;

    Result<void> check_config(RingConfig const& config)
    {
        if (config.queue_depth == 0 || config.queue_depth > max_queue_depth)
            return fail("io_uring queue depth " + std::to_string(config.queue_depth) + " is outside 1.."
                + std::to_string(max_queue_depth));
        if (config.fixed_file_count == 0 || config.fixed_file_count > max_fixed_files)
            return fail("io_uring fixed-file table size " + std::to_string(config.fixed_file_count) + " is outside 1.."
                + std::to_string(max_fixed_files));
        // 0 would mean "leave the kernel default" to io_uring_register_iowq_max_workers.
        if (config.max_bounded_workers == 0 || config.max_unbounded_workers == 0)
            return fail("io_uring worker limits must be at least 1");
        if (config.allowed_kernel_opcodes.empty())
            return fail("the io_uring opcode allow-list is empty");
        for (uint8_t opcode : config.allowed_kernel_opcodes) {
            if (opcode >= IORING_OP_LAST)
                return fail("io_uring opcode " + std::to_string(opcode) + " is unknown");
        }
        return {};
    }

    Error setup_error(int err)
    {
        switch (err) {
        case EPERM:
        case EACCES:
        case ENOSYS:
            return Error { std::string("io_uring is unavailable on this host: io_uring_setup failed with ")
                    + std::strerror(err)
                    + " (check the sysctl kernel.io_uring_disabled and the seccomp or LSM policy of this process)",
                err };
        case EINVAL:
            return Error {
                "the kernel's io_uring cannot create disabled rings (IORING_SETUP_R_DISABLED needs Linux 5.10 "
                "or later)",
                err
            };
        default:
            return Error::from_errno("io_uring_setup", err);
        }
    }

    Result<void> install_restrictions(io_uring* ring, RingConfig const& config)
    {
        std::vector<io_uring_restriction> restrictions;
        for (uint8_t opcode : config.allowed_kernel_opcodes) {
            io_uring_restriction allow_op {};
            allow_op.opcode = IORING_RESTRICTION_SQE_OP;
            allow_op.sqe_op = opcode;
            restrictions.push_back(allow_op);
        }
        // Every SQE must name its file through the registered table: a raw fd in an SQE would let
        // the ring reach any descriptor of the process, bypassing what the loop chose to register.
        io_uring_restriction fixed_only {};
        fixed_only.opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
        fixed_only.sqe_flags = IOSQE_FIXED_FILE;
        restrictions.push_back(fixed_only);
        // Once restricted, every io_uring_register call is denied unless listed; the loop only ever
        // swaps entries of its file table after start-up.
        io_uring_restriction update_files {};
        update_files.opcode = IORING_RESTRICTION_REGISTER_OP;
        update_files.register_op = IORING_REGISTER_FILES_UPDATE;
        restrictions.push_back(update_files);

        int rc = io_uring_register(static_cast<unsigned>(ring->ring_fd), IORING_REGISTER_RESTRICTIONS,
            restrictions.data(), static_cast<unsigned>(restrictions.size()));
        if (rc < 0)
            return fail_errno("io_uring_register_restrictions", -rc);
        return {};
    }

} // namespace

// Restrictions and enabling go through the generic io_uring_register(): liburing 2.3 (Debian
// bookworm) declares io_uring_register_restrictions() and io_uring_enable_rings() but its shared
// library does not export them (liburing issue #773, fixed in 2.4).

void Ring::Deleter::operator()(io_uring* ring) const
{
    io_uring_queue_exit(ring);
    delete ring;
}

Result<Ring> Ring::create(RingConfig const& config)
{
    TRY(check_config(config));

    auto raw = std::make_unique<io_uring>();
    io_uring_params params {};
    // Disabled until the restrictions are in: restrictions can only be registered on a disabled
    // ring, and no SQE may run before they apply.
    params.flags = IORING_SETUP_R_DISABLED;
    int rc = io_uring_queue_init_params(config.queue_depth, raw.get(), &params);
    if (rc < 0)
        return unexpected(setup_error(-rc));
    Ring ring(std::unique_ptr<io_uring, Deleter>(raw.release()));

    // Waiting with a timeout must not need a timeout SQE of liburing's own (it would carry no
    // IOSQE_FIXED_FILE and be refused by the restrictions): require the getevents argument.
    if (!(params.features & IORING_FEAT_EXT_ARG))
        return fail("the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11 or later needed)");

    rc = io_uring_register_files_sparse(ring.get(), config.fixed_file_count);
    if (rc == -EMFILE)
        return fail("an io_uring fixed-file table of " + std::to_string(config.fixed_file_count)
            + " slots exceeds RLIMIT_NOFILE");
    if (rc == -EINVAL)
        return fail("the kernel's io_uring cannot register a sparse file table (Linux 5.19 or later needed)");
    if (rc < 0)
        return fail_errno("io_uring_register_files_sparse", -rc);

    // io-wq runs requests that cannot complete without blocking (regular-file reads of a block
    // image, mostly) on kernel worker threads of this process, and by default spawns up to
    // RLIMIT_NPROC of them. A guest that floods its queues would then multiply the VMM's threads
    // and CPU share; a small bound keeps the VMM's footprint what its cgroup was sized for, at
    // the price of queueing inside the kernel under load. Sockets, pipes and eventfds are
    // pollable, so their waits never hold a worker and the small "unbounded" class suffices.
    unsigned workers[2] = { config.max_bounded_workers, config.max_unbounded_workers };
    rc = io_uring_register_iowq_max_workers(ring.get(), workers);
    if (rc < 0)
        return fail_errno("io_uring_register_iowq_max_workers (Linux 5.15 or later needed)", -rc);

    TRY(install_restrictions(ring.get(), config));

    rc = io_uring_register(static_cast<unsigned>(ring.get()->ring_fd), IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    if (rc < 0)
        return fail_errno("io_uring_enable_rings", -rc);
    return ring;
}

Result<void> Ring::update_file(uint32_t slot, int fd)
{
    int rc = io_uring_register_files_update(m_ring.get(), slot, &fd, 1);
    if (rc < 0)
        return fail_errno("io_uring_register_files_update of slot " + std::to_string(slot), -rc);
    if (rc != 1)
        return fail("io_uring_register_files_update of slot " + std::to_string(slot) + " updated nothing");
    return {};
}

} // namespace husk

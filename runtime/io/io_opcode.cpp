// Mapping of IoOpcode onto the kernel's IORING_OP_* numbers.
#include "runtime/io/io_opcode.hpp"

#include <liburing.h>

namespace husk {

uint8_t kernel_opcode(IoOpcode opcode)
{
    switch (opcode) {
    case IoOpcode::Poll:
        return IORING_OP_POLL_ADD;
    case IoOpcode::Read:
        return IORING_OP_READ;
    case IoOpcode::Write:
        return IORING_OP_WRITE;
    case IoOpcode::ReadV:
        return IORING_OP_READV;
    case IoOpcode::WriteV:
        return IORING_OP_WRITEV;
    case IoOpcode::Recv:
        return IORING_OP_RECV;
    case IoOpcode::Send:
        return IORING_OP_SEND;
    case IoOpcode::Accept:
        return IORING_OP_ACCEPT;
    case IoOpcode::Fsync:
        return IORING_OP_FSYNC;
    case IoOpcode::Fallocate:
        return IORING_OP_FALLOCATE;
    case IoOpcode::Timeout:
        return IORING_OP_TIMEOUT;
    case IoOpcode::Cancel:
        return IORING_OP_ASYNC_CANCEL;
    }
    return IORING_OP_NOP; // unreachable for valid enumerators; NOP is never allowed
}

std::string_view io_opcode_name(IoOpcode opcode)
{
    switch (opcode) {
    case IoOpcode::Poll:
        return "poll";
    case IoOpcode::Read:
        return "read";
    case IoOpcode::Write:
        return "write";
    case IoOpcode::ReadV:
        return "readv";
    case IoOpcode::WriteV:
        return "writev";
    case IoOpcode::Recv:
        return "recv";
    case IoOpcode::Send:
        return "send";
    case IoOpcode::Accept:
        return "accept";
    case IoOpcode::Fsync:
        return "fsync";
    case IoOpcode::Fallocate:
        return "fallocate";
    case IoOpcode::Timeout:
        return "timeout";
    case IoOpcode::Cancel:
        return "cancel";
    }
    return "unknown";
}

} // namespace husk

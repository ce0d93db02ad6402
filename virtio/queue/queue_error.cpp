// QueueError: readable names for log messages and test failures.
#include "virtio/queue/queue_error.hpp"

namespace husk {

char const* to_string(QueueErrorKind kind)
{
    switch (kind) {
    case QueueErrorKind::AvailRingUnreadable:
        return "available ring unreadable";
    case QueueErrorKind::AvailIndexTooFarAhead:
        return "available index more than a queue ahead";
    case QueueErrorKind::HeadOutOfRange:
        return "chain head out of range";
    case QueueErrorKind::UsedRingUnwritable:
        return "used ring unwritable";
    case QueueErrorKind::DescriptorUnreadable:
        return "descriptor unreadable";
    case QueueErrorKind::NextOutOfRange:
        return "next descriptor out of range";
    case QueueErrorKind::ChainTooLong:
        return "descriptor chain longer than its table (loop)";
    case QueueErrorKind::IndirectNotNegotiated:
        return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
    case QueueErrorKind::IndirectNotHead:
        return "indirect descriptor not at the chain head";
    case QueueErrorKind::IndirectWithNext:
        return "indirect descriptor with NEXT flag";
    case QueueErrorKind::IndirectBadLength:
        return "indirect table length zero or not a multiple of 16";
    case QueueErrorKind::IndirectTableTooLarge:
        return "indirect table too large";
    case QueueErrorKind::NestedIndirect:
        return "nested indirect table";
    case QueueErrorKind::ReadableAfterWritable:
        return "readable descriptor after a writable one";
    case QueueErrorKind::LengthSumOverflow:
        return "chain length sum overflows";
    case QueueErrorKind::BufferOutOfMemory:
        return "buffer outside guest memory";
    }
    return "unknown queue error";
}

std::string QueueError::message() const
{
    std::string text = to_string(kind);
    if (head)
        text += " (chain head " + std::to_string(*head) + ")";
    if (!detail.empty())
        text += ": " + detail;
    return text;
}

} // namespace husk

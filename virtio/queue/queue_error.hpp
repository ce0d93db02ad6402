// Why a guest's virtqueue contents were rejected. Ring-level faults leave the queue unusable until
// the device is reset (the device marks itself NEEDS_RESET); chain-level faults consumed one
// available entry whose head is known, so the device can complete that request with an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace husk {

enum class QueueErrorKind {
    // Ring-level: the queue stops.
    AvailRingUnreadable, // avail->idx or an avail slot is outside guest memory
    AvailIndexTooFarAhead, // avail->idx claims more than queue-size new entries
    HeadOutOfRange, // an avail slot names a descriptor outside the table
    UsedRingUnwritable, // used->idx, a used slot or used->avail_event is outside guest memory
    // Chain-level: the request at `head` is completed with an error.
    DescriptorUnreadable, // the descriptor table or an indirect table is outside guest memory
    NextOutOfRange, // a `next` field points outside the table
    ChainTooLong, // more descriptors than the table holds: a loop
    IndirectNotNegotiated, // INDIRECT flag without VIRTIO_F_INDIRECT_DESC
    IndirectNotHead, // INDIRECT flag on a descriptor that is not the chain's head
    IndirectWithNext, // INDIRECT together with NEXT
    IndirectBadLength, // indirect table length zero or not a multiple of 16
    IndirectTableTooLarge, // more entries than husk accepts in one table
    NestedIndirect, // an indirect table entry with INDIRECT set
    ReadableAfterWritable, // device-readable buffer after a device-writable one
    LengthSumOverflow, // readable or writable bytes exceed what a used length can express
    BufferOutOfMemory, // a buffer is not inside guest memory
};

struct QueueError {
    QueueErrorKind kind;
    std::optional<uint16_t> head; // set for chain-level errors: the request to complete
    std::string detail;

    // The queue cannot continue; the device must ask the driver for a reset.
    bool is_fatal() const { return !head.has_value(); }
    std::string message() const;
};

char const* to_string(QueueErrorKind kind);

} // namespace husk

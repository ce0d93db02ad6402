// rng cases: buffers the device cannot fill sensibly (device-readable, one byte, many huge ones).
#include "case_helpers.hpp"

namespace guest {

HOSTILE_CASE("rng", device_readable_buffer)
{
    submit_single(session, scratch(64), 64, 0);
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("rng", one_byte_buffers)
{
    auto& queue = data_queue(session);
    for (uint16_t slot = 0; slot < 12; ++slot) {
        queue.set(slot, scratch(1), 1, flag_write);
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("rng", every_slot_huge_buffer)
{
    // Twelve requests of 48 MiB each: the device must bound what it fills per request.
    auto& queue = data_queue(session);
    for (uint16_t slot = 0; slot < 12; ++slot) {
        queue.set(slot, 0x10'0000, 0x0300'0000, flag_write);
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    settle(session);
    queue.drain();
    return After::Probe;
}

} // namespace guest

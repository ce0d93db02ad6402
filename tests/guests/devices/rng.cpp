// virtio-rng (device 4): one queue of device-writable buffers the device fills with entropy.
#include "runtime/hostile.hpp"

namespace guest {

namespace {

    bool probe_rng(Session& session)
    {
        auto& queue = session.queues[0];
        uint64_t buffer = scratch(64);
        queue.set(probe_slot, buffer, 64, flag_write);
        queue.submit(probe_slot);
        UsedElement used {};
        if (queue.wait_for_head(probe_slot, used) != WaitResult::Used) {
            println("rng probe: no answer");
            return false;
        }
        if (used.length == 0 || used.length > 64) {
            print("rng probe: used length ");
            print_decimal(used.length);
            println("");
            return false;
        }
        return true;
    }

    constexpr DeviceKind rng_kind {
        .name = "rng",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::Entropy),
        .matches = nullptr,
        .queue_count = 1,
        .data_queue = 0,
        .data_flags = flag_write,
        .wanted_features = 0,
        .prepare = nullptr,
        .probe = probe_rng,
        .generic_target = true,
    };
    HOSTILE_DEVICE_KIND(rng_kind);

} // namespace

} // namespace guest

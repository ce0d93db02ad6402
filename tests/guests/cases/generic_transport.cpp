// Generic cases: the virtio-mmio transport driven out of order or with nonsense: bad queue
// sizes and ring addresses, queue registers after DRIVER_OK, notifications before DRIVER_OK or
// for queues that do not exist, feature games, status garbage, config writes, odd-width and
// unaligned MMIO, accesses past the slot.
#include "case_helpers.hpp"
#include "runtime/io.hpp"

#include <initializer_list>

namespace guest {

namespace {
    // ACKNOWLEDGE, DRIVER, the kind's features, FEATURES_OK; every queue normal but `bad`,
    // which gets the given registers; then DRIVER_OK.
    void setup_with_queue(Session& session, uint32_t size, uint64_t descriptors, uint64_t avail, uint64_t used)
    {
        auto& device = session.device;
        if (!device.negotiate(device.offered_features() & (version_1_feature | session.kind->wanted_features)))
            finish(Verdict::SetupFailed);
        for (uint16_t index = 0; index < session.kind->queue_count; ++index) {
            if (index == session.kind->data_queue)
                device.configure_queue(index, size, descriptors, avail, used);
            else
                DriverQueue::create(device, index, session_queue_size);
        }
        device.add_status(vstatus::driver_ok);
    }

    void setup_with_queue_size(Session& session, uint32_t size)
    {
        setup_with_queue(session, size, scratch(4096 * 16), scratch(4096), scratch(4096 * 4));
    }
    void setup_with_rings(Session& session, uint64_t descriptors, uint64_t avail, uint64_t used)
    {
        setup_with_queue(session, session_queue_size, descriptors, avail, used);
    }

    void kick_everything(Session& session)
    {
        for (uint16_t index = 0; index < session.kind->queue_count; ++index)
            session.device.notify(index);
        settle(session);
    }
} // namespace

HOSTILE_CASE("*", queue_size_zero)
{
    setup_with_queue_size(session, 0);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", queue_size_not_power_of_two)
{
    setup_with_queue_size(session, 3);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", queue_size_above_max)
{
    uint16_t max = session.device.queue_max(session.kind->data_queue);
    setup_with_queue_size(session, max * 2u);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", queue_size_0x10000)
{
    setup_with_queue_size(session, 0x10000);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", queue_size_0xffffffff)
{
    setup_with_queue_size(session, 0xffff'ffff);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_descriptors_unaligned)
{
    setup_with_rings(session, scratch(4096) + 2, scratch(4096), scratch(4096));
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_avail_unaligned)
{
    setup_with_rings(session, scratch(4096), scratch(4096) + 1, scratch(4096));
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_used_unaligned)
{
    setup_with_rings(session, scratch(4096), scratch(4096), scratch(4096) + 2);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_outside_ram)
{
    setup_with_rings(session, guest_ram_size + 0x1000, scratch(4096), scratch(4096));
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_wrapping_2_64)
{
    setup_with_rings(session, scratch(4096), scratch(4096), 0xffff'ffff'ffff'ff00);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_on_own_registers)
{
    setup_with_rings(session, scratch(4096), scratch(4096), session.device.base());
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_parts_overlapping)
{
    uint64_t shared = scratch(4096);
    setup_with_rings(session, shared, shared, shared);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", ring_at_address_zero)
{
    setup_with_rings(session, 0, 0, 0);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", queue_select_out_of_range)
{
    auto& device = session.device;
    for (uint32_t select : { 3u, 100u, 0xffffu, 0x10000u, 0xffff'ffffu }) {
        device.write(mmio::queue_sel, select);
        (void)device.read(mmio::queue_num_max);
        (void)device.read(mmio::queue_ready);
        device.write(mmio::queue_num, 8);
        device.write(mmio::queue_desc_low, 0x1000);
        device.write(mmio::queue_ready, 1);
    }
    return After::Probe;
}

HOSTILE_CASE("*", queue_registers_after_driver_ok)
{
    auto& device = session.device;
    for (uint16_t index = 0; index < session.kind->queue_count; ++index) {
        device.configure_queue(index, 2, guest_ram_size, 0xffff'ffff'ffff'fff0, session.device.base());
        device.write(mmio::queue_ready, 0);
    }
    return After::Probe;
}

HOSTILE_CASE("*", queue_ready_toggled_under_load)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    for (uint32_t round = 0; round < 500; ++round) {
        queue.set(static_cast<uint16_t>(round % 4), buffer, 64, data_flags(session));
        queue.submit(static_cast<uint16_t>(round % 4));
        session.device.write(mmio::queue_sel, session.kind->data_queue);
        session.device.write(mmio::queue_ready, round % 2);
    }
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("*", notify_before_driver_ok)
{
    auto& device = session.device;
    if (!device.negotiate(device.offered_features() & (version_1_feature | session.kind->wanted_features)))
        finish(Verdict::SetupFailed);
    DriverQueue queues[max_queues];
    for (uint16_t index = 0; index < session.kind->queue_count; ++index)
        queues[index] = DriverQueue::create(device, index, session_queue_size);
    auto& queue = queues[session.kind->data_queue];
    queue.set(0, scratch(64), 64, data_flags(session));
    queue.stage(0);
    queue.publish();
    for (int round = 0; round < 100; ++round) {
        for (uint16_t index = 0; index < session.kind->queue_count + 2; ++index)
            device.notify(index);
    }
    device.add_status(vstatus::driver_ok);
    return After::Reinit;
}

HOSTILE_CASE("*", notify_before_any_setup)
{
    session.device.reset();
    for (int round = 0; round < 1000; ++round)
        session.device.notify(static_cast<uint32_t>(round % 4));
    return After::Reinit;
}

HOSTILE_CASE("*", notify_nonexistent_queues)
{
    for (uint32_t queue : { 3u, 4u, 255u, 256u, 0xffffu, 0x10000u, 0xffff'ffffu }) {
        for (int round = 0; round < 200; ++round)
            session.device.notify(queue);
    }
    return After::Probe;
}

HOSTILE_CASE("*", notify_storm_million)
{
    // 10^6 kicks, or as many as fit in 20 s of guest time: on hardware KVM a kick costs about a
    // microsecond, under the lab's TCG a nested exit costs a few hundred.
    constexpr uint32_t kicks = 1'000'000;
    constexpr uint64_t time_limit = 20'000 * milliseconds;
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, data_flags(session));
    queue.stage(0);
    queue.publish();
    uint64_t deadline = now_ns() + time_limit;
    uint32_t done = 0;
    while (done < kicks) {
        for (uint32_t burst = 0; burst < 1000; ++burst)
            queue.kick();
        done += 1000;
        if (now_ns() > deadline)
            break;
    }
    print("hostile: kicks sent: ");
    print_decimal(done);
    println("");
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("*", features_unoffered)
{
    auto& device = session.device;
    if (device.negotiate(~0ull))
        misbehaved("FEATURES_OK accepted with every feature bit set");
    return After::Reinit;
}

HOSTILE_CASE("*", features_without_version_1)
{
    auto& device = session.device;
    if (device.negotiate(device.offered_features() & ~version_1_feature))
        misbehaved("FEATURES_OK accepted without VIRTIO_F_VERSION_1");
    return After::Reinit;
}

HOSTILE_CASE("*", features_written_after_features_ok)
{
    auto& device = session.device;
    device.write_features(~0ull);
    for (uint32_t select : { 2u, 0xffffu, 0xffff'ffffu }) {
        device.write(mmio::driver_features_sel, select);
        device.write(mmio::driver_features, 0xffff'ffff);
        device.write(mmio::device_features_sel, select);
        (void)device.read(mmio::device_features);
    }
    return After::Probe;
}

HOSTILE_CASE("*", status_garbage)
{
    auto& device = session.device;
    for (uint32_t value : { 0xffu, 0x80u, 0x40u, 0x7fu, 0xffff'ffffu, 0x100u, 0x4u, 0xcu, 0x2u }) {
        device.write(mmio::status, value);
        (void)device.status();
    }
    return After::Reinit;
}

HOSTILE_CASE("*", status_steps_out_of_order)
{
    auto& device = session.device;
    for (uint32_t first : { vstatus::driver_ok, vstatus::features_ok, vstatus::driver, vstatus::failed }) {
        device.reset();
        device.write(mmio::status, first);
        device.write(mmio::status, first | vstatus::acknowledge);
        device.write(mmio::status, vstatus::acknowledge | vstatus::driver | vstatus::driver_ok);
        for (uint16_t index = 0; index < session.kind->queue_count; ++index)
            device.notify(index);
    }
    return After::Reinit;
}

HOSTILE_CASE("*", status_bits_cleared_without_reset)
{
    session.device.write(mmio::status, vstatus::acknowledge);
    session.device.write(mmio::status, vstatus::acknowledge | vstatus::driver | vstatus::features_ok);
    return After::Probe;
}

HOSTILE_CASE("*", status_failed_after_driver_ok)
{
    session.device.add_status(vstatus::failed);
    kick_everything(session);
    return After::Reinit;
}

HOSTILE_CASE("*", config_written_after_driver_ok)
{
    auto base = session.device.base();
    for (uint64_t offset = mmio::config; offset < mmio::config + 0x100; ++offset)
        mmio_write8(base + offset, 0xff);
    for (uint64_t offset = mmio::config; offset < mmio::config + 0x100; offset += 2)
        mmio_write16(base + offset, 0xa5a5);
    for (uint64_t offset = mmio::config; offset < mmio::config + 0x100; offset += 4)
        mmio_write32(base + offset, 0xdead'beef);
    return After::Probe;
}

HOSTILE_CASE("*", config_read_everywhere)
{
    auto base = session.device.base();
    uint64_t sum = 0;
    for (uint64_t offset = mmio::config; offset < mmio::window_size; offset += 7) {
        sum += mmio_read8(base + offset);
        sum += mmio_read16(base + offset);
        sum += mmio_read32(base + offset);
    }
    for (uint64_t offset = mmio::config; offset + 8 <= mmio::window_size; offset += 64)
        sum += mmio_read64(base + offset);
    (void)sum;
    return After::Probe;
}

HOSTILE_CASE("*", registers_odd_widths)
{
    auto base = session.device.base();
    uint64_t sum = 0;
    for (uint64_t offset = 0; offset < mmio::config; offset += 4) {
        sum += mmio_read8(base + offset) + mmio_read16(base + offset) + mmio_read64(base + offset);
        if (offset == mmio::status || offset == mmio::queue_notify)
            continue; // narrow stores there would be ignored anyway; keep them for the unaligned case
        mmio_write8(base + offset, 0xff);
        mmio_write16(base + offset, 0xffff);
        mmio_write64(base + offset, ~0ull);
    }
    (void)sum;
    return After::Probe;
}

HOSTILE_CASE("*", registers_unaligned)
{
    auto base = session.device.base();
    uint64_t sum = 0;
    for (uint64_t offset = 1; offset < mmio::config; offset += 4) {
        sum += mmio_read32(base + offset) + mmio_read32(base + offset + 1);
        mmio_write32(base + offset, 0);
        mmio_write32(base + offset + 1, 0xffff'ffff);
        mmio_write16(base + offset, 0);
    }
    (void)sum;
    return After::Probe;
}

HOSTILE_CASE("*", access_straddling_slot_end)
{
    auto base = session.device.base();
    (void)mmio_read64(base + mmio::window_size - 4);
    (void)mmio_read32(base + mmio::window_size - 2);
    mmio_write64(base + mmio::window_size - 4, ~0ull);
    mmio_write32(base + mmio::window_size - 1, 0xffff'ffff);
    return After::Probe;
}

HOSTILE_CASE("*", access_past_last_slot)
{
    // Beyond every slot husk can create, and in the rest of the MMIO hole.
    uint64_t end = 0xd000'0000 + 17 * mmio::window_size;
    for (uint64_t address :
        std::initializer_list<uint64_t> { end, end + 0x50, end + 0xffc, 0xdfff0000, 0xc0000000, 0xfebffff0 }) {
        (void)mmio_read32(address);
        mmio_write32(address, 0xffff'ffff);
        mmio_write64(address, ~0ull);
        (void)mmio_read8(address + 3);
    }
    return After::Probe;
}

HOSTILE_CASE("*", interrupt_ack_and_shm_garbage)
{
    auto& device = session.device;
    for (int round = 0; round < 100; ++round) {
        device.write(mmio::interrupt_ack, 0xffff'ffff);
        device.write(mmio::shm_sel, static_cast<uint32_t>(round * 0x1234567));
        (void)device.read(mmio::shm_len_low);
        (void)device.read(mmio::shm_base_high);
        (void)device.read(mmio::interrupt_status);
        (void)device.read(mmio::config_generation);
    }
    return After::Probe;
}

} // namespace guest

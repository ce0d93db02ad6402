// virtio-blk (device 2), two kinds: "blk" is the read-write disk, "blk-ro" the read-only one
// (VIRTIO_BLK_F_RO offered). The probe reads sector 0 and checks the magic the lab wrote; on the
// read-write disk it also writes sector 1 and reads it back.
#include "blk_driver.hpp"

#include "runtime/arena.hpp"

#include <cstring>

namespace guest {

uint64_t blk_capacity(Session& session)
{
    uint64_t low = session.device.read(mmio::config);
    uint64_t high = session.device.read(mmio::config + 4);
    return low | high << 32;
}

bool blk_is_read_only(VirtioDevice const& device)
{
    return (device.offered_features() & feature_mask(blk::feature::read_only)) != 0;
}

int blk_request(Session& session, uint32_t type, uint64_t sector, uint64_t data, uint32_t data_length,
    uint16_t data_flags, uint16_t first_slot)
{
    auto& queue = session.queues[0];
    auto* header = reinterpret_cast<blk::RequestHeader*>(scratch(sizeof(blk::RequestHeader)));
    header->type = type;
    header->sector = sector;
    auto* status = reinterpret_cast<uint8_t volatile*>(scratch(1));
    *status = 0xee;
    uint16_t slot = first_slot;
    if (data_length != 0) {
        queue.set(slot, reinterpret_cast<uint64_t>(header), sizeof *header, flag_next, slot + 1);
        queue.set(slot + 1, data, data_length, data_flags | flag_next, slot + 2);
        queue.set(slot + 2, reinterpret_cast<uint64_t>(status), 1, flag_write);
    } else {
        queue.set(slot, reinterpret_cast<uint64_t>(header), sizeof *header, flag_next, slot + 1);
        queue.set(slot + 1, reinterpret_cast<uint64_t>(status), 1, flag_write);
    }
    queue.submit(first_slot);
    UsedElement used {};
    if (queue.wait_for_head(first_slot, used) != WaitResult::Used)
        return blk_no_answer;
    return *status;
}

namespace {

    bool read_magic(Session& session, char const* magic, size_t length)
    {
        uint64_t buffer = scratch(blk::sector_size);
        int status = blk_request(session, blk::request_type::in, 0, buffer, blk::sector_size, flag_write);
        if (status != blk::status::ok) {
            print("blk probe: read of sector 0 ended with ");
            print_decimal(static_cast<uint64_t>(status));
            println("");
            return false;
        }
        if (memcmp(reinterpret_cast<void const*>(buffer), magic, length) != 0) {
            println("blk probe: sector 0 does not hold the lab's magic");
            return false;
        }
        return true;
    }

    bool probe_rw(Session& session)
    {
        if (!read_magic(session, blk_rw_magic, sizeof blk_rw_magic))
            return false;
        uint64_t out = scratch(blk::sector_size);
        auto* bytes = reinterpret_cast<uint8_t*>(out);
        for (uint64_t i = 0; i < blk::sector_size; ++i)
            bytes[i] = static_cast<uint8_t>(i * 7 + 3);
        if (blk_request(session, blk::request_type::out, 1, out, blk::sector_size, 0) != blk::status::ok) {
            println("blk probe: write of sector 1 failed");
            return false;
        }
        uint64_t in = scratch(blk::sector_size);
        if (blk_request(session, blk::request_type::in, 1, in, blk::sector_size, flag_write) != blk::status::ok
            || memcmp(reinterpret_cast<void const*>(in), bytes, blk::sector_size) != 0) {
            println("blk probe: sector 1 did not read back what was written");
            return false;
        }
        return true;
    }

    bool probe_ro(Session& session) { return read_magic(session, blk_ro_magic, sizeof blk_ro_magic); }

    bool is_rw(VirtioDevice const& device) { return !blk_is_read_only(device); }

    constexpr uint64_t blk_features = feature_mask(husk::virtio::feature::indirect_desc)
        | feature_mask(blk::feature::flush) | feature_mask(blk::feature::discard)
        | feature_mask(blk::feature::write_zeroes) | feature_mask(blk::feature::read_only)
        | feature_mask(blk::feature::blk_size) | feature_mask(blk::feature::seg_max);

    constexpr DeviceKind blk_kind {
        .name = "blk",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::Block),
        .matches = is_rw,
        .queue_count = 1,
        .data_queue = 0,
        .data_flags = 0,
        .wanted_features = blk_features,
        .prepare = nullptr,
        .probe = probe_rw,
        .generic_target = true,
    };
    HOSTILE_DEVICE_KIND(blk_kind);

    constexpr DeviceKind blk_ro_kind {
        .name = "blk-ro",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::Block),
        .matches = blk_is_read_only,
        .queue_count = 1,
        .data_queue = 0,
        .data_flags = 0,
        .wanted_features = blk_features,
        .prepare = nullptr,
        .probe = probe_ro,
        .generic_target = false,
    };
    HOSTILE_DEVICE_KIND(blk_ro_kind);

} // namespace

} // namespace guest

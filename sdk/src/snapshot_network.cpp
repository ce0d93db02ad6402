#include "sdk/src/snapshot_network.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "virtio/core/virtio_spec.hpp"
#include "virtio/net/net_spec.hpp"

#include <span>

namespace husk::detail {

Result<std::optional<SnapshotNetwork>> read_snapshot_network(std::string const& directory)
{
    auto path = snapshot_state_path(directory);
    auto bad = [&path](Error error) {
        error.kind = ErrorKind::BadConfig;
        error.message = "snapshot " + path + ": " + error.message;
        return error;
    };
    auto text = read_file(path, snapshot_format::max_file_size + 1);
    if (!text)
        return unexpected(bad(std::move(text).error()));
    auto state = decode_snapshot(std::span(reinterpret_cast<uint8_t const*>(text->data()), text->size()));
    if (!state)
        return unexpected(bad(std::move(state).error()));
    for (auto const& slot : state->virtio) {
        if (slot.device_type != static_cast<uint32_t>(virtio::DeviceType::Net))
            continue;
        auto checksums
            = virtio::feature_mask(virtio::net::feature::csum) | virtio::feature_mask(virtio::net::feature::guest_csum);
        return std::optional(SnapshotNetwork { slot.net_mac, (slot.transport.driver_features & checksums) != 0 });
    }
    return std::optional<SnapshotNetwork>();
}

} // namespace husk::detail

// FakeVsockBackend: a VsockBackend for muxer and device tests. It records every call the device
// makes, serves host bytes that tests queue per connection, and lets tests raise backend events
// through the VsockBackendEvents pointer the device registered.
#pragma once

#include "virtio/vsock/vsock_backend.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace husk::testing {

class FakeVsockBackend final : public VsockBackend {
public:
    void set_events(VsockBackendEvents* sink) override { events = sink; }

    VsockOpenOutcome open_stream(VsockConnectionKey key) override
    {
        opened.push_back(key);
        return open_outcome;
    }
    void accept_stream(VsockConnectionKey key) override { accepted.push_back(key); }
    Result<void> write(VsockConnectionKey key, std::span<uint8_t const> data) override
    {
        if (fail_writes)
            return fail("write refused (test)");
        written[key].append(data.begin(), data.end());
        return {};
    }
    VsockReadResult read(VsockConnectionKey key, std::span<uint8_t> destination) override
    {
        ++reads;
        auto& pending = host_data[key];
        size_t count = std::min(pending.size(), destination.size());
        std::copy_n(pending.begin(), count, destination.begin());
        pending.erase(0, count);
        return { count, pending.empty() && host_eof.contains(key) };
    }
    void shutdown_write(VsockConnectionKey key) override { write_shutdowns.push_back(key); }
    void close(VsockConnectionKey key) override { closed.push_back(key); }

    bool was_closed(VsockConnectionKey key) const
    {
        return std::find(closed.begin(), closed.end(), key) != closed.end();
    }

    VsockBackendEvents* events { nullptr };
    VsockOpenOutcome open_outcome { VsockOpenOutcome::Connected };
    bool fail_writes { false };
    std::vector<VsockConnectionKey> opened;
    std::vector<VsockConnectionKey> accepted;
    std::vector<VsockConnectionKey> write_shutdowns;
    std::vector<VsockConnectionKey> closed;
    std::map<VsockConnectionKey, std::string> written;
    std::map<VsockConnectionKey, std::string> host_data; // what read() hands out
    std::set<VsockConnectionKey> host_eof; // read() reports end of stream once drained
    size_t reads { 0 };
};

} // namespace husk::testing

// libFuzzer target for the virtio-vsock TX path: fuzzer bytes (raw, or a header with fuzzed
// fields) become packets laid out across fuzzer-chosen descriptor splits in guest memory, go
// through read_tx_packet exactly as the device reads them, and drive a VsockMuxer interleaved
// with fuzzer-chosen backend events and RX pulls. Properties checked on every step:
//   - a parsed packet's payload is exactly header.len bytes, ≤ 64 KiB and within the chain;
//   - every RX packet comes from the host CID to the guest CID, is a STREAM packet, carries a
//     payload of exactly len ≤ the room offered, and never more data than the guest's credit;
//   - the guest never gets more than the advertised buffer outstanding at the backend per
//     connection, and the connection table stays within its bound.
// Any violation aborts, which libFuzzer reports as a crash.
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/vsock/muxer.hpp"
#include "virtio/vsock/packet.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t guest_cid = 3;
constexpr uint64_t memory_size = 0x80000;
constexpr size_t max_connections = 16;

// A backend that accepts everything, hands out fuzzer-chosen host bytes and remembers how many
// guest bytes each stream holds, so consumption is only ever reported for bytes it was given.
class FuzzBackend final : public VsockBackend {
public:
    void set_events(VsockBackendEvents*) override { }
    VsockOpenOutcome open_stream(VsockConnectionKey) override { return next_open; }
    void accept_stream(VsockConnectionKey) override { }
    Result<void> write(VsockConnectionKey key, std::span<uint8_t const> data) override
    {
        held[key] += data.size();
        require(held[key] <= vsock_buffer_size);
        return {};
    }
    VsockReadResult read(VsockConnectionKey key, std::span<uint8_t> destination) override
    {
        auto& available = host_bytes[key];
        size_t count = std::min(available, destination.size());
        std::fill_n(destination.begin(), count, uint8_t { 0x5a });
        available -= count;
        return { count, available == 0 && host_eof };
    }
    void shutdown_write(VsockConnectionKey) override { }
    void close(VsockConnectionKey key) override { held.erase(key); }

    VsockOpenOutcome next_open { VsockOpenOutcome::Connected };
    bool host_eof { false };
    std::map<VsockConnectionKey, size_t> held;
    std::map<VsockConnectionKey, size_t> host_bytes;
};

GuestMemory& guest_memory()
{
    static GuestMemory memory = std::move(GuestMemory::create({ { GuestAddress(0), memory_size } }).value());
    return memory;
}

VsockConnectionKey pick_key(FuzzedDataProvider& input)
{
    // Small port sets so fuzzed packets and events keep meeting the same connections.
    uint32_t guest_port = input.ConsumeIntegralInRange<uint32_t>(0, 7);
    uint32_t host_ports[] = { 0, 1, vsock_first_ephemeral_host_port, vsock_first_ephemeral_host_port + 1 };
    return { guest_port, host_ports[input.ConsumeIntegralInRange<size_t>(0, 3)] };
}

// A header with fuzzer-chosen fields, mostly well-formed and on the small port set, followed by
// its payload: reaches the muxer's per-connection states far more often than raw bytes would.
std::vector<uint8_t> structured_packet(FuzzedDataProvider& input)
{
    VsockPacketHeader header {};
    auto key = pick_key(input);
    header.src_port = key.guest_port;
    header.dst_port = key.host_port;
    bool valid = input.ConsumeIntegralInRange<int>(0, 15) != 0;
    header.src_cid = valid ? guest_cid : input.ConsumeIntegral<uint64_t>();
    header.dst_cid = valid ? vsock::host_cid : input.ConsumeIntegral<uint64_t>();
    header.type = valid ? vsock::type_stream : input.ConsumeIntegral<uint16_t>();
    header.op = input.ConsumeIntegralInRange<uint16_t>(0, 8);
    header.flags = input.ConsumeIntegralInRange<uint32_t>(0, 3);
    header.buf_alloc = input.ConsumeBool() ? vsock_buffer_size : input.ConsumeIntegral<uint32_t>();
    header.fwd_cnt = input.ConsumeIntegral<uint32_t>();
    auto payload_length = input.ConsumeIntegralInRange<uint32_t>(0, 300);
    header.len = input.ConsumeIntegralInRange<int>(0, 7) != 0 ? payload_length : input.ConsumeIntegral<uint32_t>();
    std::vector<uint8_t> bytes(sizeof header + payload_length, 0x33);
    std::memcpy(bytes.data(), &header, sizeof header);
    return bytes;
}

// Lays the packet bytes out in up to four scattered readable buffers (sizes from the fuzzer,
// possibly shorter or longer than the bytes) and parses them the way the device does.
void guest_sends(FuzzedDataProvider& input, VsockMuxer& muxer, std::vector<uint8_t>& payload_buffer, bool structured)
{
    auto bytes = structured ? structured_packet(input)
                            : input.ConsumeBytes<uint8_t>(input.ConsumeIntegralInRange<size_t>(0, 256));
    size_t pieces = input.ConsumeIntegralInRange<size_t>(1, 4);
    std::vector<uint32_t> sizes;
    size_t total = 0;
    for (size_t i = 0; i + 1 < pieces; ++i) {
        sizes.push_back(input.ConsumeIntegralInRange<uint32_t>(0, 96));
        total += sizes.back();
    }
    // The last piece takes the rest, give or take a few bytes.
    auto slack = input.ConsumeIntegralInRange<int>(-4, 4);
    sizes.push_back(static_cast<uint32_t>(
        std::max<int64_t>(0, static_cast<int64_t>(bytes.size()) - static_cast<int64_t>(total) + slack)));

    auto& memory = guest_memory();
    std::vector<ChainBuffer> buffers;
    uint64_t address = 0x1000;
    size_t offset = 0;
    for (uint32_t size : sizes) {
        require(size < 0x1000);
        size_t count = std::min<size_t>(size, bytes.size() - offset);
        require(memory.fill(GuestAddress(address), 0, size).has_value());
        require(memory.write(GuestAddress(address), std::span(bytes).subspan(offset, count)).has_value());
        buffers.push_back({ GuestAddress(address), size, BufferAccess::DeviceReadable });
        offset += count;
        address += 0x1000;
    }
    DescriptorChain chain(0, std::move(buffers));

    auto packet = read_tx_packet(memory, chain, payload_buffer);
    if (packet.ok()) {
        require(packet.payload.size() == packet.header.len);
        require(packet.payload.size() <= vsock::max_packet_payload);
        require(vsock_header_size + packet.payload.size() <= chain.readable_length());
        muxer.handle_guest_packet(packet.header, packet.payload);
    } else if (packet.error == VsockPacketError::PayloadBeyondChain
        || packet.error == VsockPacketError::PayloadTooLarge) {
        require(packet.header.len > vsock::max_packet_payload
            || vsock_header_size + packet.header.len > chain.readable_length());
        muxer.handle_malformed_packet(packet.header);
    } else {
        require(packet.error == VsockPacketError::ShortHeader && chain.readable_length() < vsock_header_size);
    }
}

void guest_receives(FuzzedDataProvider& input, VsockMuxer& muxer)
{
    auto room = input.ConsumeIntegralInRange<uint32_t>(0, 8192);
    // Credit per connection before the pull: no data packet may exceed it.
    std::map<VsockConnectionKey, uint32_t> credit;
    for (uint32_t guest_port = 0; guest_port < 8; ++guest_port) {
        std::vector<uint32_t> host_ports { 0, 1 };
        for (uint32_t i = 0; i <= max_connections; ++i)
            host_ports.push_back(vsock_first_ephemeral_host_port + i); // where host_connect allocates
        for (uint32_t host_port : host_ports) {
            if (auto const* connection = muxer.find({ guest_port, host_port }))
                credit[connection->key()] = connection->guest_credit();
        }
    }
    auto packet = muxer.pop_rx(room);
    if (!packet)
        return;
    auto const& header = packet->header;
    require(header.src_cid == vsock::host_cid && header.dst_cid == guest_cid);
    require(header.type == vsock::type_stream);
    require(header.len == packet->payload.size() && header.len <= room);
    if (header.op == static_cast<uint16_t>(vsock::Op::Rw)) {
        VsockConnectionKey key { header.dst_port, header.src_port };
        require(!credit.contains(key) || header.len <= credit[key]);
    } else {
        require(header.len == 0);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    FuzzBackend backend;
    VsockMuxer muxer(guest_cid, backend, VsockMuxerLimits { max_connections, 8 });
    std::vector<uint8_t> payload_buffer(vsock::max_packet_payload);

    for (int step = 0; step < 64 && input.remaining_bytes() > 0; ++step) {
        switch (input.ConsumeIntegralInRange<int>(0, 7)) {
        case 0:
            guest_sends(input, muxer, payload_buffer, false);
            break;
        case 1:
            guest_sends(input, muxer, payload_buffer, true);
            break;
        case 2:
            guest_receives(input, muxer);
            break;
        case 3:
            (void)muxer.host_connect(pick_key(input).guest_port);
            break;
        case 4: {
            auto key = pick_key(input);
            backend.host_bytes[key] += input.ConsumeIntegralInRange<size_t>(0, 100000);
            backend.host_eof = input.ConsumeBool();
            muxer.host_readable(key);
            break;
        }
        case 5: {
            auto key = pick_key(input);
            auto held = backend.held[key];
            auto consumed = std::min<size_t>(held, input.ConsumeIntegral<uint32_t>());
            backend.held[key] -= consumed;
            muxer.host_consumed(key, static_cast<uint32_t>(consumed));
            break;
        }
        case 6:
            backend.next_open = static_cast<VsockOpenOutcome>(input.ConsumeIntegralInRange<int>(0, 2));
            muxer.host_connect_result(pick_key(input), backend.next_open);
            break;
        case 7: {
            auto key = pick_key(input);
            backend.held.erase(key); // a backend reporting a reset has already forgotten the stream
            muxer.host_reset(key);
            break;
        }
        }
        require(muxer.connection_count() <= max_connections);
    }
    // Draining must terminate and leave nothing behind but connections waiting on credit or data.
    for (int pulls = 0; pulls < 100000 && muxer.pop_rx(4096); ++pulls) { }
    muxer.reset();
    require(muxer.connection_count() == 0 && !muxer.has_pending_rx());
    return 0;
}

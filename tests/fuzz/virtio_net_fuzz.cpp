// libFuzzer target for virtio-net's guest-facing input: check_tx_frame on fuzzed headers, frame
// lengths and offloads, and the NetDevice on fuzzed transmit chains (header bytes cut across
// descriptors at fuzzer-chosen places) and receive completions (any length, cut frames, errors,
// resets and snapshot pauses in between), against a backend that keeps what it is given.
// Properties checked on every input:
//   - an accepted header obeys every rule: length bounds, only NEEDS_CSUM as a flag and only when
//     negotiated, the checksum field inside the frame, GSO only TCPv4/TCPv6 when negotiated, with
//     NEEDS_CSUM, a gso_size and an hdr_len inside the frame;
//   - every frame the device hands the backend passes check_tx_frame again on the very bytes
//     handed over, and carries num_buffers 0;
//   - receive used lengths never exceed the chain they complete;
//   - a pause leaves nothing in flight once the read was cancelled, and no chain held once the
//     device prepared for a snapshot.
// Any violation aborts, which libFuzzer reports as a crash.
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/net/tx_frame_check.hpp"
#include "virtio/testing/device_harness.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

using namespace husk;
namespace net = husk::virtio::net;

namespace {

void check_accepted_header(net::Header const& header, uint64_t length, TxOffloads const& offloads)
{
    require(length >= net::ethernet_header_size && length <= net::max_frame_size);
    require((header.flags & ~net::header_flag::needs_csum) == 0);
    bool needs_csum = header.flags & net::header_flag::needs_csum;
    if (needs_csum) {
        require(offloads.checksum);
        require(header.csum_start >= net::ethernet_header_size);
        require(uint64_t { header.csum_start } + header.csum_offset + 2 <= length);
    }
    if (header.gso_type == net::gso::none) {
        require(length <= net::max_plain_frame_size);
        return;
    }
    require(
        (header.gso_type == net::gso::tcpv4 && offloads.tso4) || (header.gso_type == net::gso::tcpv6 && offloads.tso6));
    require(needs_csum && header.gso_size > 0 && header.hdr_len <= length);
}

class KeepingBackend final : public NetBackend {
public:
    void set_events(NetBackendEvents* events) override { m_events = events; }
    Result<void> set_receive_offloads(RxOffloads) override { return {}; }
    Result<void> start_receive(std::span<iovec const> buffers) override
    {
        receive.assign(buffers.begin(), buffers.end());
        receiving = true;
        return {};
    }
    void cancel_receive() override { }
    Result<void> start_transmit(uint64_t tag, std::span<iovec const> buffers) override
    {
        std::vector<uint8_t> bytes;
        for (auto const& buffer : buffers)
            bytes.insert(bytes.end(), static_cast<uint8_t*>(buffer.iov_base),
                static_cast<uint8_t*>(buffer.iov_base) + buffer.iov_len);
        sent.push_back({ tag, std::move(bytes) });
        return {};
    }
    Result<void> start_timer(std::chrono::nanoseconds) override { return {}; }

    NetBackendEvents* m_events { nullptr };
    std::vector<iovec> receive;
    bool receiving { false };
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> sent;
};

std::vector<uint8_t> transmit_bytes(FuzzedDataProvider& input)
{
    net::Header header {};
    if (input.ConsumeBool()) {
        auto raw = input.ConsumeBytes<uint8_t>(sizeof header);
        if (!raw.empty())
            std::memcpy(&header, raw.data(), raw.size());
    } else {
        header.flags = input.ConsumeBool() ? net::header_flag::needs_csum : 0;
        static constexpr uint8_t types[] = { net::gso::none, net::gso::tcpv4, net::gso::tcpv6, net::gso::udp };
        header.gso_type = types[input.ConsumeIntegralInRange<size_t>(0, 3)];
        header.csum_start = input.ConsumeIntegralInRange<uint16_t>(0, 80);
        header.csum_offset = input.ConsumeIntegralInRange<uint16_t>(0, 20);
        header.gso_size = input.ConsumeIntegralInRange<uint16_t>(0, 1500);
        header.hdr_len = input.ConsumeIntegralInRange<uint16_t>(0, 100);
    }
    size_t frame = input.ConsumeIntegralInRange<size_t>(0, 3000);
    std::vector<uint8_t> bytes(sizeof header + frame, 0x5a);
    // Sometimes not even a whole header.
    if (input.ConsumeBool() && input.ConsumeBool())
        bytes.resize(input.ConsumeIntegralInRange<size_t>(0, sizeof header));
    if (!bytes.empty())
        std::memcpy(bytes.data(), &header, std::min(bytes.size(), sizeof header));
    return bytes;
}

void drive_device(FuzzedDataProvider& input)
{
    KeepingBackend backend;
    NetDeviceConfig config;
    config.mac = { 2, 0, 0, 0, 0, 1 };
    NetDevice device(backend, config);
    auto harness = std::move(DeviceHarness::create(device, 0x200000).value());
    auto& driver = harness->driver();
    uint64_t features = input.ConsumeIntegral<uint64_t>();
    std::array<uint16_t, 2> sizes { 16, 16 };
    if (!driver.start(features, sizes))
        return;
    auto offloads = TxOffloads::from_features(device.features() & features);
    // The mock driver hands out descriptors round-robin, so, like a real driver, the harness
    // posts only while descriptors are free: 16 per queue, returned by used entries.
    std::vector<uint32_t> rx_chain_lengths(16, 0);
    size_t rx_in_use = 0;
    // The mock driver hands out descriptors round robin, not from a free list: a chain may only
    // be added when the descriptor it will get is not still held by the device.
    std::array<bool, 16> rx_busy {};
    uint16_t rx_next_head = 0;
    std::vector<size_t> tx_pieces(16, 0);
    size_t tx_in_use = 0;

    for (int step = 0; step < 24 && input.remaining_bytes() > 0; ++step) {
        switch (input.ConsumeIntegralInRange<int>(0, 5)) {
        case 0: { // a transmit chain cut into up to four pieces
            auto bytes = transmit_bytes(input);
            std::vector<MockBuffer> pieces;
            size_t start = 0;
            int cuts = input.ConsumeIntegralInRange<int>(0, 3);
            if (tx_in_use + static_cast<size_t>(cuts) + 1 > 16)
                break;
            for (int cut = 0; cut <= cuts; ++cut) {
                size_t end = cut == cuts ? bytes.size() : input.ConsumeIntegralInRange<size_t>(start, bytes.size());
                auto piece = harness->buffer(static_cast<uint32_t>(end - start), BufferAccess::DeviceReadable);
                if (!piece)
                    return;
                (void)harness->memory().write(piece->address, std::span(bytes).subspan(start, end - start));
                pieces.push_back(*piece);
                start = end;
            }
            if (auto head = driver.queue(NetDevice::tx_queue).add_chain(pieces)) {
                tx_pieces[*head % 16] = pieces.size();
                tx_in_use += pieces.size();
            }
            driver.kick(NetDevice::tx_queue);
            break;
        }
        case 1: { // a receive buffer
            auto length = input.ConsumeIntegralInRange<uint32_t>(0, 4096);
            if (rx_in_use == 16 || rx_busy[rx_next_head])
                break;
            auto rx = harness->buffer(length, BufferAccess::DeviceWritable);
            if (!rx)
                return;
            auto head = driver.queue(NetDevice::rx_queue).add_chain(std::vector { *rx });
            if (head) {
                rx_chain_lengths[*head % 16] = length;
                rx_busy[*head % 16] = true;
                rx_next_head = static_cast<uint16_t>((*head + 1) % 16);
                ++rx_in_use;
            }
            driver.kick(NetDevice::rx_queue);
            break;
        }
        case 2: // the pending receive completes with any length or an error
            if (backend.receiving) {
                backend.receiving = false;
                backend.m_events->on_net_received(input.ConsumeIntegralInRange<int64_t>(-200, 70000));
            }
            break;
        case 3: // transmits complete
            for (auto& [tag, bytes] : std::exchange(backend.sent, {})) {
                require(bytes.size() >= sizeof(net::Header));
                net::Header header {};
                std::memcpy(&header, bytes.data(), sizeof header);
                require(check_tx_frame(header, bytes.size() - sizeof header, offloads) == TxFrameProblem::None);
                require(header.num_buffers == 0);
                backend.m_events->on_net_transmitted(tag, input.ConsumeBool() ? 0 : -5);
            }
            break;
        case 4:
            if (input.ConsumeBool()) {
                driver.reset();
                if (!driver.start(features, sizes))
                    return;
                rx_in_use = 0; // fresh queues: every descriptor is free again
                rx_busy = {};
                rx_next_head = 0;
                tx_in_use = 0;
            } else {
                backend.m_events->on_net_timer();
            }
            break;
        case 5: { // a pause, as for a snapshot: the read cancelled, transmits finished, chains given back
            {
                auto lock = harness->transport().lock();
                device.begin_pause();
            }
            if (backend.receiving) {
                backend.receiving = false;
                backend.m_events->on_net_received(input.ConsumeBool() ? -ECANCELED : 60);
            }
            for (auto& [tag, bytes] : std::exchange(backend.sent, {}))
                backend.m_events->on_net_transmitted(tag, 0);
            auto lock = harness->transport().lock();
            require(!device.has_requests_in_flight());
            if (input.ConsumeBool()) {
                device.prepare_snapshot();
                require(device.held_rx_chains() == 0);
            }
            device.end_pause();
            break;
        }
        }
        while (true) {
            auto used = driver.queue(NetDevice::rx_queue).pop_used();
            if (!used || !*used)
                break;
            require((*used)->length <= rx_chain_lengths[(*used)->id % 16]);
            rx_busy[(*used)->id % 16] = false;
            --rx_in_use;
        }
        while (true) {
            auto used = driver.queue(NetDevice::tx_queue).pop_used();
            if (!used || !*used)
                break;
            require((*used)->length == 0); // transmit buffers are only read
            tx_in_use -= tx_pieces[(*used)->id % 16];
        }
    }
    // Whatever is still queued for the backend was checked too.
    for (auto& [tag, bytes] : backend.sent) {
        net::Header header {};
        require(bytes.size() >= sizeof header);
        std::memcpy(&header, bytes.data(), sizeof header);
        require(check_tx_frame(header, bytes.size() - sizeof header, offloads) == TxFrameProblem::None);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    if (input.ConsumeBool()) {
        net::Header header {};
        auto raw = input.ConsumeBytes<uint8_t>(sizeof header);
        if (!raw.empty())
            std::memcpy(&header, raw.data(), raw.size());
        uint64_t length = input.ConsumeBool() ? input.ConsumeIntegralInRange<uint64_t>(0, 70000)
                                              : input.ConsumeIntegral<uint64_t>();
        TxOffloads offloads { input.ConsumeBool(), input.ConsumeBool(), input.ConsumeBool() };
        if (check_tx_frame(header, length, offloads) == TxFrameProblem::None)
            check_accepted_header(header, length, offloads);
        return 0;
    }
    drive_device(input);
    return 0;
}

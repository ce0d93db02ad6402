// FakeNetBackend: a NetBackend for NetDevice tests that holds every receive, transmit and timer
// until the test finishes it, and records what the device asked for. The socketpair tests in
// tests/unit/runtime/net/ run the same device paths on the real io_uring backend.
#pragma once

#include "virtio/net/net_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace husk::testing {

class FakeNetBackend final : public NetBackend {
public:
    void set_events(NetBackendEvents* events) override { m_events = events; }
    Result<void> set_receive_offloads(RxOffloads offloads) override
    {
        offload_calls.push_back(offloads);
        return {};
    }
    Result<void> start_receive(std::span<iovec const> buffers) override
    {
        if (receive)
            return fail("receive already in flight (test)");
        receive = std::vector<iovec>(buffers.begin(), buffers.end());
        ++receives_started;
        return {};
    }
    void cancel_receive() override { ++cancels; }
    Result<void> start_transmit(uint64_t tag, std::span<iovec const> buffers) override
    {
        std::vector<uint8_t> bytes;
        for (auto const& buffer : buffers) {
            auto const* data = static_cast<uint8_t const*>(buffer.iov_base);
            bytes.insert(bytes.end(), data, data + buffer.iov_len);
        }
        first_vector_bases.push_back(buffers.empty() ? nullptr : buffers[0].iov_base);
        transmits.emplace(tag, std::move(bytes));
        return {};
    }
    Result<void> start_timer(std::chrono::nanoseconds delay) override
    {
        timers.push_back(delay);
        return {};
    }

    // Writes `bytes` (header included) into the pending receive's buffers and reports `reported`
    // (default: the bytes that fit, or the full length, as a tap does when a frame is cut).
    void deliver(std::vector<uint8_t> const& bytes, std::optional<int64_t> reported = std::nullopt)
    {
        auto buffers = *receive;
        receive.reset();
        size_t done = 0;
        for (auto const& buffer : buffers) {
            size_t count = std::min(buffer.iov_len, bytes.size() - done);
            std::memcpy(buffer.iov_base, bytes.data() + done, count);
            done += count;
        }
        m_events->on_net_received(reported.value_or(static_cast<int64_t>(bytes.size())));
    }
    void fail_receive(int64_t error)
    {
        receive.reset();
        m_events->on_net_received(error);
    }
    // Completes every transmit in flight successfully, returning their bytes in tag order.
    std::vector<std::vector<uint8_t>> complete_transmits()
    {
        std::vector<std::vector<uint8_t>> sent;
        auto pending = std::move(transmits);
        transmits.clear();
        for (auto& [tag, bytes] : pending) {
            sent.push_back(bytes);
            m_events->on_net_transmitted(tag, static_cast<int64_t>(bytes.size()));
        }
        return sent;
    }
    void fire_timer()
    {
        timers.clear();
        m_events->on_net_timer();
    }

    std::vector<RxOffloads> offload_calls;
    std::optional<std::vector<iovec>> receive;
    size_t receives_started { 0 };
    size_t cancels { 0 };
    std::map<uint64_t, std::vector<uint8_t>> transmits;
    std::vector<void const*> first_vector_bases;
    std::vector<std::chrono::nanoseconds> timers;

private:
    NetBackendEvents* m_events { nullptr };
};

} // namespace husk::testing

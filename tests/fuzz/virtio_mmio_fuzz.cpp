// Fuzzes the guest-facing side of a virtio-mmio device: arbitrary register and config accesses
// (any offset, any width), ioeventfd-style kicks and guest memory writes, against MmioTransport
// driving a virtio-rng device. The input may also run a correct setup first so the fuzzer reaches
// the activated device quickly. Checks the transport's invariants after every step.
#include "virtio/mmio/mmio_registers.hpp"
#include "virtio/mmio/mmio_transport.hpp"
#include "virtio/rng/rng_device.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"
#include "virtio/testing/mock_driver.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

using namespace husk;

namespace {

constexpr uint64_t memory_size = 0x20000;
constexpr GuestAddress scratch { 0x10000 };
constexpr size_t max_operations = 2048;

class Input {
public:
    explicit Input(std::span<uint8_t const> data)
        : m_data(data)
    {
    }
    bool empty() const { return m_data.empty(); }
    template<typename T>
    T take()
    {
        T value {};
        size_t count = std::min(sizeof(T), m_data.size());
        std::memcpy(&value, m_data.data(), count);
        m_data = m_data.subspan(count);
        return value;
    }
    std::span<uint8_t const> take_bytes(size_t count)
    {
        count = std::min(count, m_data.size());
        auto bytes = m_data.first(count);
        m_data = m_data.subspan(count);
        return bytes;
    }

private:
    std::span<uint8_t const> m_data;
};

// Cheap deterministic bytes: the fuzzer needs speed, not entropy.
class PatternSource final : public EntropySource {
public:
    Result<void> fill(std::span<uint8_t> destination) override
    {
        for (auto& byte : destination)
            byte = m_next++;
        return {};
    }

private:
    uint8_t m_next { 0 };
};

void check(bool condition)
{
    if (!condition)
        std::abort();
}

void check_invariants(MmioTransport& transport)
{
    auto status = transport.device_status();
    // DRIVER_OK is visible exactly when the device runs; a refused activation leaves it clear.
    check(((status & virtio::status::driver_ok) != 0) == transport.is_activated());
    // FEATURES_OK never without the earlier steps.
    if (status & virtio::status::features_ok)
        check((status & (virtio::status::acknowledge | virtio::status::driver))
            == (virtio::status::acknowledge | virtio::status::driver));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    static auto memory = [] {
        auto created = GuestMemory::create({ { GuestAddress(0), memory_size } });
        check(created.has_value());
        return std::move(created).value();
    }();
    check(memory.fill(GuestAddress(0), 0, memory_size).has_value());
    Input input({ data, size });

    PatternSource source;
    RngDevice device(source);
    CountingInterruptTrigger trigger;
    auto created = MmioTransport::create(memory, device, trigger);
    check(created.has_value());
    auto& transport = **created;

    uint8_t prologue = input.take<uint8_t>();
    if (prologue & 1) {
        // A well-behaved driver sets the device up; the rest of the input then attacks it.
        MockDriver driver(transport, memory, scratch, memory_size - scratch.value());
        std::array<uint16_t, 1> sizes { static_cast<uint16_t>(1u << ((prologue >> 1) % 9)) };
        (void)driver.start(static_cast<uint64_t>(prologue) << 24, sizes);
    }

    for (size_t operation = 0; operation < max_operations && !input.empty(); ++operation) {
        uint8_t op = input.take<uint8_t>();
        uint64_t offset = input.take<uint16_t>() % (virtio::mmio::window_size + 8);
        // Widths 0..8: the bus forwards what the guest's instruction used.
        std::array<uint8_t, 8> bytes {};
        auto access = std::span(bytes).first(input.take<uint8_t>() % 9);
        switch (op % 4) {
        case 0:
            transport.read(offset, access);
            break;
        case 1: {
            auto value = input.take_bytes(access.size());
            std::memcpy(access.data(), value.data(), value.size());
            transport.write(offset, access);
            break;
        }
        case 2:
            transport.notify_queue(input.take<uint8_t>());
            break;
        case 3: { // the guest rewrites its rings or buffers
            auto address = GuestAddress(input.take<uint32_t>() % memory_size);
            (void)memory.write(address, input.take_bytes(input.take<uint8_t>() % 32));
            break;
        }
        }
        check_invariants(transport);
    }
    return 0;
}

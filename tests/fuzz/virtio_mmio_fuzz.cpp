// Fuzzes the guest-facing side of a virtio-mmio device: arbitrary register and config accesses
// (any offset, any width), ioeventfd-style kicks and guest memory writes, against MmioTransport
// driving a virtio-rng device. The input may also run a correct setup first so the fuzzer reaches
// the activated device quickly. Checks the transport's invariants after every step.
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/mmio/mmio_registers.hpp"
#include "virtio/mmio/mmio_transport.hpp"
#include "virtio/rng/rng_device.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"
#include "virtio/testing/mock_driver.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

using namespace husk;

namespace {

constexpr uint64_t memory_size = 0x20000;
constexpr GuestAddress scratch { 0x10000 };
constexpr size_t max_operations = 2048;

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

void check_invariants(MmioTransport& transport)
{
    auto status = transport.device_status();
    // DRIVER_OK is visible exactly when the device runs; a refused activation leaves it clear.
    require(((status & virtio::status::driver_ok) != 0) == transport.is_activated());
    // FEATURES_OK never without the earlier steps.
    if (status & virtio::status::features_ok)
        require((status & (virtio::status::acknowledge | virtio::status::driver))
            == (virtio::status::acknowledge | virtio::status::driver));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    static auto memory = [] {
        auto created = GuestMemory::create({ { GuestAddress(0), memory_size } });
        require(created.has_value());
        return std::move(created).value();
    }();
    require(memory.fill(GuestAddress(0), 0, memory_size).has_value());
    FuzzedDataProvider input(data, size);

    PatternSource source;
    RngDevice device(source);
    CountingInterruptTrigger trigger;
    auto created = MmioTransport::create(memory, device, trigger);
    require(created.has_value());
    auto& transport = **created;

    auto prologue = input.ConsumeIntegral<uint8_t>();
    if (prologue & 1) {
        // A well-behaved driver sets the device up; the rest of the input then attacks it.
        MockDriver driver(transport, memory, scratch, memory_size - scratch.value());
        std::array<uint16_t, 1> sizes { static_cast<uint16_t>(1u << ((prologue >> 1) % 9)) };
        (void)driver.start(static_cast<uint64_t>(prologue) << 24, sizes);
    }

    for (size_t operation = 0; operation < max_operations && input.remaining_bytes() > 0; ++operation) {
        auto op = input.ConsumeIntegralInRange<int>(0, 3);
        uint64_t offset = input.ConsumeIntegralInRange<uint64_t>(0, virtio::mmio::window_size + 7);
        // Widths 0..8: the bus forwards what the guest's instruction used.
        std::array<uint8_t, 8> bytes {};
        auto access = std::span(bytes).first(input.ConsumeIntegralInRange<size_t>(0, 8));
        switch (op) {
        case 0:
            transport.read(offset, access);
            break;
        case 1: {
            auto value = input.ConsumeBytes<uint8_t>(access.size());
            std::copy(value.begin(), value.end(), access.begin());
            transport.write(offset, access);
            break;
        }
        case 2:
            transport.notify_queue(input.ConsumeIntegral<uint8_t>());
            break;
        case 3: { // the guest rewrites its rings or buffers
            auto address = GuestAddress(input.ConsumeIntegralInRange<uint32_t>(0, memory_size - 1));
            (void)memory.write(address, input.ConsumeBytes<uint8_t>(input.ConsumeIntegralInRange<size_t>(0, 31)));
            break;
        }
        }
        check_invariants(transport);
    }
    return 0;
}

// libFuzzer target for the virtio-blk request parser: fuzzer bytes become a request header (raw,
// or with a mostly-valid type and sector), optional data and discard segments, laid out across
// fuzzer-chosen descriptor splits and directions, parsed against fuzzer-chosen disk limits.
// Properties checked on every input:
//   - without a non-empty writable last buffer there is no status address; with one, the status
//     address is its last byte;
//   - an accepted request stays inside the disk (64-bit, no wrap), moves whole sectors for
//     read/write, never exceeds the advertised discard / write-zeroes maximum, touches nothing on
//     a read-only disk except reads and flushes, and its data ranges sum to its length and lie in
//     buffers of the right direction, never on the status byte.
// Any violation aborts, which libFuzzer reports as a crash.
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/block/block_request.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

using namespace husk;
namespace blk = husk::virtio::block;

namespace {

constexpr uint64_t memory_size = 0x40000;

GuestMemory& guest_memory()
{
    static GuestMemory memory = std::move(GuestMemory::create({ { GuestAddress(0), memory_size } }).value());
    return memory;
}

std::vector<uint8_t> request_bytes(FuzzedDataProvider& input)
{
    if (input.ConsumeBool())
        return input.ConsumeBytes<uint8_t>(input.ConsumeIntegralInRange<size_t>(0, 96));
    static constexpr uint32_t types[] = { blk::request_type::in, blk::request_type::out, blk::request_type::flush,
        blk::request_type::get_id, blk::request_type::discard, blk::request_type::write_zeroes, 7 };
    blk::RequestHeader header {};
    header.type = types[input.ConsumeIntegralInRange<size_t>(0, 6)];
    header.sector
        = input.ConsumeBool() ? input.ConsumeIntegralInRange<uint64_t>(0, 4096) : input.ConsumeIntegral<uint64_t>();
    std::vector<uint8_t> bytes(sizeof header);
    std::memcpy(bytes.data(), &header, sizeof header);
    size_t segments = input.ConsumeIntegralInRange<size_t>(0, 2);
    for (size_t i = 0; i < segments; ++i) {
        blk::DiscardSegment segment {};
        segment.sector = input.ConsumeIntegralInRange<uint64_t>(0, 4096);
        segment.num_sectors = input.ConsumeIntegral<uint32_t>();
        segment.flags = input.ConsumeIntegralInRange<uint32_t>(0, 3);
        bytes.insert(
            bytes.end(), reinterpret_cast<uint8_t*>(&segment), reinterpret_cast<uint8_t*>(&segment) + sizeof segment);
    }
    return bytes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    auto& memory = guest_memory();
    BlockDiskLimits limits {
        .capacity_sectors = input.ConsumeBool() ? input.ConsumeIntegralInRange<uint64_t>(0, 8192)
                                                : input.ConsumeIntegral<uint64_t>() >> blk::sector_shift,
        .read_only = input.ConsumeBool(),
        .discard = input.ConsumeBool(),
        .write_zeroes = input.ConsumeBool(),
        .max_discard_sectors = input.ConsumeIntegralInRange<uint32_t>(0, 1 << 21),
        .max_write_zeroes_sectors = input.ConsumeIntegralInRange<uint32_t>(0, 1 << 21),
    };

    // Readable buffers carry the request bytes; then up to four writable buffers of fuzzed sizes.
    auto bytes = request_bytes(input);
    std::vector<ChainBuffer> buffers;
    uint64_t address = 0x1000;
    size_t offset = 0;
    size_t readable_pieces = input.ConsumeIntegralInRange<size_t>(0, 4);
    for (size_t i = 0; i < readable_pieces; ++i) {
        size_t remaining = bytes.size() - offset;
        uint32_t length = i + 1 == readable_pieces
            ? static_cast<uint32_t>(remaining + input.ConsumeIntegralInRange<uint32_t>(0, 1024))
            : input.ConsumeIntegralInRange<uint32_t>(0, static_cast<uint32_t>(remaining));
        require(length < 0x2000);
        size_t count = std::min<size_t>(length, bytes.size() - offset);
        require(memory.fill(GuestAddress(address), 0, length).has_value());
        require(memory.write(GuestAddress(address), std::span(bytes).subspan(offset, count)).has_value());
        buffers.push_back({ GuestAddress(address), length, BufferAccess::DeviceReadable });
        offset += count;
        address += 0x2000;
    }
    size_t writable_pieces = input.ConsumeIntegralInRange<size_t>(0, 4);
    for (size_t i = 0; i < writable_pieces; ++i) {
        auto length = input.ConsumeIntegralInRange<uint32_t>(0, 0x1800);
        buffers.push_back({ GuestAddress(address), length, BufferAccess::DeviceWritable });
        address += 0x2000;
    }
    require(address <= memory_size);
    DescriptorChain chain(0, buffers);

    auto parsed = parse_block_request(memory, chain, limits);

    bool reportable
        = !buffers.empty() && buffers.back().access == BufferAccess::DeviceWritable && buffers.back().length > 0;
    require(parsed.can_report() == reportable);
    if (!reportable)
        return 0;
    require(*parsed.status_address == buffers.back().address.unchecked_add(buffers.back().length - 1));
    if (!parsed.is_valid()) {
        require(!parsed.problem.empty());
        return 0;
    }
    auto const& request = parsed.request;
    uint64_t disk_bytes = limits.capacity_sectors << blk::sector_shift;
    bool addresses_disk = request.type != BlockRequestType::Flush && request.type != BlockRequestType::GetId;
    require(!addresses_disk || (request.offset <= disk_bytes && request.length <= disk_bytes - request.offset));
    uint64_t data_total = 0;
    for (auto const& segment : request.data) {
        data_total += segment.length;
        // Each data range lies inside one buffer of the right direction and not on the status byte.
        auto wanted
            = request.type == BlockRequestType::Write ? BufferAccess::DeviceReadable : BufferAccess::DeviceWritable;
        bool inside = std::any_of(buffers.begin(), buffers.end(), [&](ChainBuffer const& buffer) {
            return buffer.access == wanted && segment.address >= buffer.address
                && segment.address.value() + segment.length <= buffer.address.value() + buffer.length;
        });
        require(inside);
        require(!(parsed.status_address->value() >= segment.address.value()
            && parsed.status_address->value() < segment.address.value() + segment.length));
    }
    switch (request.type) {
    case BlockRequestType::Read:
    case BlockRequestType::Write:
        require(request.length % blk::sector_size == 0 && data_total == request.length);
        require(request.type == BlockRequestType::Read || !limits.read_only);
        break;
    case BlockRequestType::GetId:
        require(data_total == blk::id_length);
        break;
    case BlockRequestType::Flush:
        require(request.data.empty());
        break;
    case BlockRequestType::Discard:
        require(!limits.read_only && limits.discard && !request.unmap);
        require(request.length <= uint64_t { limits.max_discard_sectors } << blk::sector_shift);
        break;
    case BlockRequestType::WriteZeroes:
        require(!limits.read_only && limits.write_zeroes);
        require(request.length <= uint64_t { limits.max_write_zeroes_sectors } << blk::sector_shift);
        break;
    }
    return 0;
}

// libFuzzer target for StreamDeframer, which splits passt's socket stream (4-byte big-endian
// length, then the frame) into frames. The input is a stream (the bytes after an 8-byte
// max-frame/piece-size header taken from the end) fed in pieces of fuzzed sizes, frames popped
// whenever one is complete. Checked on every input against a plain reference parse of the whole
// stream: the same frames come out in the same order with the same bytes, each 1..max long;
// Broken exactly where the reference finds a length of 0 or above the maximum, and for good;
// free space is never empty while more is needed. Any violation aborts.
#include "runtime/net/stream_deframer.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

struct Reference {
    std::vector<std::vector<uint8_t>> frames;
    bool broken { false };
};

Reference parse(std::vector<uint8_t> const& stream, uint32_t max_frame)
{
    Reference reference;
    size_t offset = 0;
    while (stream.size() - offset >= 4) {
        uint32_t length = (uint32_t { stream[offset] } << 24) | (uint32_t { stream[offset + 1] } << 16)
            | (uint32_t { stream[offset + 2] } << 8) | stream[offset + 3];
        if (length == 0 || length > max_frame) {
            reference.broken = true;
            break;
        }
        if (stream.size() - offset - 4 < length)
            break;
        reference.frames.emplace_back(stream.begin() + static_cast<ptrdiff_t>(offset + 4),
            stream.begin() + static_cast<ptrdiff_t>(offset + 4 + length));
        offset += 4 + length;
    }
    return reference;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    auto max_frame = provider.ConsumeIntegralInRange<uint32_t>(1, 4096);
    auto piece_limit = provider.ConsumeIntegralInRange<size_t>(1, 9000);
    auto stream = provider.ConsumeRemainingBytes<uint8_t>();
    auto reference = parse(stream, max_frame);

    husk::StreamDeframer deframer(max_frame);
    std::vector<std::vector<uint8_t>> frames;
    bool broken = false;
    size_t offset = 0;
    auto drain = [&] {
        while (true) {
            auto next = deframer.peek();
            if (next.status == husk::StreamDeframer::Status::Frame) {
                require(!next.frame.empty() && next.frame.size() <= max_frame);
                frames.emplace_back(next.frame.begin(), next.frame.end());
                deframer.pop();
                continue;
            }
            if (next.status == husk::StreamDeframer::Status::Broken) {
                require(next.declared_length == 0 || next.declared_length > max_frame);
                broken = true;
            }
            return;
        }
    };
    while (offset < stream.size() && !broken) {
        auto space = deframer.free_space();
        require(!space.empty());
        // The piece size varies with the position, so reads end anywhere.
        auto count = std::min({ space.size(), stream.size() - offset, 1 + (offset * 7919 + piece_limit) % piece_limit });
        std::memcpy(space.data(), stream.data() + offset, count);
        deframer.commit(count);
        offset += count;
        drain();
    }
    require(broken == reference.broken);
    require(frames == reference.frames);
    if (broken) {
        require(deframer.free_space().empty());
        require(deframer.peek().status == husk::StreamDeframer::Status::Broken);
    }
    return 0;
}

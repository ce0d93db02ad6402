// The snapshot state file reader on hostile files. Most random files fail the checksum, so half
// the inputs get a valid header and checksum around fuzzed body bytes, which lets the fuzzer reach
// every section and field. Whatever decodes must encode and decode again to the same bytes.
#include "runtime/snapshot/crc32c.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {
std::vector<uint8_t> with_valid_header(std::vector<uint8_t> const& body)
{
    namespace fmt = husk::snapshot_format;
    std::vector<uint8_t> file(fmt::header_size, 0);
    std::memcpy(file.data(), fmt::magic, sizeof fmt::magic);
    auto put = [&](size_t at, uint64_t value, int width) {
        for (int i = 0; i < width; ++i)
            file[at + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (8 * i));
    };
    put(8, fmt::version, 4);
    put(16, body.size(), 8);
    put(24, husk::crc32c(body), 4);
    file.insert(file.end(), body.begin(), body.end());
    return file;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    bool fix_header = input.ConsumeBool();
    auto rest = input.ConsumeRemainingBytes<uint8_t>();
    auto file = fix_header ? with_valid_header(rest) : rest;
    auto decoded = husk::decode_snapshot(file);
    if (!decoded) {
        require(!decoded.error().message.empty() && decoded.error().message.find('\n') == std::string::npos);
        return 0;
    }
    auto encoded = husk::encode_snapshot(*decoded);
    auto again = husk::decode_snapshot(encoded);
    require(again.has_value());
    require(husk::encode_snapshot(*again) == encoded);
    return 0;
}

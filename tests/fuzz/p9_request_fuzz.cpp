// libFuzzer target for the 9P2000.L request parser: arbitrary bytes, or a valid header with a
// fuzzed body of a known type. Properties checked on every input:
//   - a parsed request has the tag of its header and a size field within the input;
//   - a refusal with a tag carries an errno for Rlerror; one without a tag had no usable header;
//   - walks carry at most 16 names, no string of a parsed request holds a NUL byte, and Twrite's
//     data lies inside the input.
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/p9/p9_request.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

using namespace husk::p9;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    std::vector<uint8_t> bytes;
    if (input.ConsumeBool()) {
        static constexpr uint8_t types[] = { message::tversion, message::tattach, message::twalk, message::tread,
            message::twrite, message::tlopen, message::tlcreate, message::tsymlink, message::tsetattr,
            message::treaddir, message::tlock, message::tgetlock, message::trenameat, message::tunlinkat,
            message::tmkdir, message::tlink, message::txattrwalk };
        auto body = input.ConsumeRemainingBytes<uint8_t>();
        uint32_t total = static_cast<uint32_t>(header_size + body.size());
        bytes = { static_cast<uint8_t>(total), static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total >> 16),
            static_cast<uint8_t>(total >> 24), types[size % std::size(types)], 1, 0 };
        bytes.insert(bytes.end(), body.begin(), body.end());
    } else {
        bytes = input.ConsumeRemainingBytes<uint8_t>();
    }
    auto parsed = parse_p9_request(bytes);
    if (parsed.request) {
        require(parsed.tag && *parsed.tag == parsed.request->tag);
        uint32_t declared = 0;
        std::memcpy(&declared, bytes.data(), 4);
        require(declared <= bytes.size());
        if (auto const* walk = std::get_if<Twalk>(&parsed.request->body)) {
            require(walk->names.size() <= max_walk_names);
            for (auto name : walk->names)
                require(name.find('\0') == std::string_view::npos);
        }
        if (auto const* write = std::get_if<Twrite>(&parsed.request->body)) {
            require(write->data.empty()
                || (write->data.data() >= bytes.data()
                    && write->data.data() + write->data.size() <= bytes.data() + bytes.size()));
        }
        if (auto const* create = std::get_if<Tlcreate>(&parsed.request->body))
            require(create->name.find('\0') == std::string_view::npos);
    } else if (parsed.tag) {
        require(parsed.error > 0);
    } else {
        require(bytes.size() < header_size || parsed.problem.size() > 0);
    }
    // The same bytes as a zero-copy Twrite: the fixed part, the rest as the data left in guest
    // memory. Accepted only when every field agrees.
    if (bytes.size() >= twrite_header_size) {
        uint64_t external = bytes.size() - twrite_header_size;
        auto header = std::span<uint8_t const>(bytes).first(twrite_header_size);
        auto in_place = parse_p9_write_header(header, external);
        if (in_place.request) {
            auto const& write = std::get<Twrite>(in_place.request->body);
            uint32_t declared = 0;
            std::memcpy(&declared, bytes.data(), 4);
            require(external > 0 && write.external_count == external && write.data.empty());
            require(declared == bytes.size() && header[4] == message::twrite);
        } else {
            require(!in_place.tag || in_place.error == EPROTO);
        }
    }
    return 0;
}

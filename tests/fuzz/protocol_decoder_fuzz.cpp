// libFuzzer target for the job protocol receive path: arbitrary bytes, fed in fuzzer-chosen
// chunks, go through FrameDecoder and decode_message exactly as a host reading a hostile guest
// would. Properties checked on every decoded message:
//   - encode(decode(frame)) reproduces the frame byte for byte (the encoding is canonical);
//   - decode(encode(message)) == message;
//   - validate_message accepts it and encode_message_checked agrees with encode_message;
//   - the sender-checked decode agrees with the plain one for the allowed sender.
// Any violation aborts, which libFuzzer reports as a crash.
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using namespace husk::protocol;

namespace {

void check_round_trip(Frame const& frame, Message const& message)
{
    auto encoded = encode_message(frame.correlation_id, message);
    auto original = encode_frame(frame.type, frame.correlation_id, frame.payload);
    require(encoded == original);

    auto checked = encode_message_checked(frame.correlation_id, message);
    require(checked.has_value() && *checked == encoded);
    require(validate_message(frame.correlation_id, message).has_value());

    FrameDecoder decoder;
    decoder.feed(encoded);
    auto again = decoder.next();
    require(again.has_value() && again->has_value());
    require(**again == frame);
    auto redecoded = decode_message(**again);
    require(redecoded.has_value() && *redecoded == message);

    auto sender = allowed_sender(frame.type);
    if (sender != Sender::Either) {
        auto peer = sender == Sender::Host ? Peer::Host : Peer::Guest;
        auto other = sender == Sender::Host ? Peer::Guest : Peer::Host;
        require(decode_message(frame, peer).has_value());
        require(!decode_message(frame, other).has_value());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    // One byte picks the read size, so the fuzzer explores frames split at every offset.
    size_t chunk = size_t { provider.ConsumeIntegral<uint8_t>() } + 1;
    auto bytes = provider.ConsumeRemainingBytes<uint8_t>();
    std::span<uint8_t const> input(bytes);

    FrameDecoder decoder;
    while (true) {
        size_t take = input.size() < chunk ? input.size() : chunk;
        decoder.feed(input.first(take));
        input = input.subspan(take);
        while (true) {
            auto next = decoder.next();
            if (!next.has_value()) {
                require(decoder.has_failed());
                return 0; // a framing error ends the connection
            }
            if (!next->has_value())
                break;
            auto const& frame = **next;
            require(frame.payload.size() <= max_payload_size);
            auto message = decode_message(frame);
            if (message.has_value()) {
                require(message_type(*message) == frame.type);
                check_round_trip(frame, *message);
            }
        }
        if (input.empty())
            return 0;
    }
}

// Encoding and decoding of typed messages to and from frames. Decoding is strict: the payload
// must be consumed exactly, every length and count is bounded, and every semantic rule of the
// message (see messages.hpp) is checked, so a decoded Message can be acted on without further
// validation. Encoding is canonical: encode(decode(frame)) reproduces the frame byte for byte.
#pragma once

#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/messages.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <vector>

namespace husk::protocol {

// Decodes one frame's payload as its message type and checks the correlation id against the
// type's scope (0 for connection messages, non-zero for operations).
Result<Message> decode_message(Frame const& frame);

// The same, and also rejects types `sender` may not send (e.g. Exec coming from the guest).
// Receivers should use this one: the host with Peer::Guest, husk-init with Peer::Host.
Result<Message> decode_message(Frame const& frame, Peer sender);

// Every rule decode_message() enforces, checked on a message about to be sent: limits, NULs,
// enum values, correlation scope. Does not check the total payload size (see encode_checked).
Result<void> validate_message(uint32_t correlation_id, Message const& message);

// A whole frame for the stream. The message is not checked: an invalid one produces a frame the
// peer rejects. Use encode_message_checked() for messages built from untrusted input.
std::vector<uint8_t> encode_message(uint32_t correlation_id, Message const& message);

// validate_message() plus the payload size limit, then encode.
Result<std::vector<uint8_t>> encode_message_checked(uint32_t correlation_id, Message const& message);

} // namespace husk::protocol

// FrameDecoder and the frame header: reassembly from arbitrary chunks, and rejection of every
// malformed header before its payload is buffered.
#include "guest-init/protocol/frame.hpp"

#include "tests/unit/guest-init/protocol/protocol_test_support.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::protocol;
using namespace husk::protocol::testing;

namespace {
std::vector<uint8_t> ping_frame(uint64_t nonce) { return encode_message(0, Ping { .nonce = nonce }); }

// Feeds a header alone and returns what next() says about it.
Result<std::optional<Frame>> next_after_header(FrameHeader const& header)
{
    FrameDecoder decoder;
    decoder.feed(header_bytes(header));
    return decoder.next();
}

bool error_mentions(Result<std::optional<Frame>> const& result, std::string const& text)
{
    return !result.has_value() && result.error().message.find(text) != std::string::npos;
}
} // namespace

TEST(FrameHeader, WriteThenRead_RoundTripsEveryField)
{
    FrameHeader header {
        .magic = 1, .version = 2, .type = 3, .correlation_id = 4, .flags = 5, .reserved = 6, .payload_size = 7
    };
    auto bytes = header_bytes(header);
    auto read = read_frame_header(std::span<uint8_t const, frame_header_size>(bytes.data(), frame_header_size));
    EXPECT_EQ(read.magic, 1u);
    EXPECT_EQ(read.version, 2u);
    EXPECT_EQ(read.type, 3u);
    EXPECT_EQ(read.correlation_id, 4u);
    EXPECT_EQ(read.flags, 5u);
    EXPECT_EQ(read.reserved, 6u);
    EXPECT_EQ(read.payload_size, 7u);
}

TEST(FrameHeader, Encoding_IsLittleEndianWithHuskMagic)
{
    auto bytes = encode_message(0x01020304, Ack {});
    ASSERT_EQ(bytes.size(), frame_header_size);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "HUSK");
    EXPECT_EQ(bytes[4], 1); // version
    EXPECT_EQ(bytes[5], 0);
    EXPECT_EQ(bytes[6], static_cast<uint8_t>(MessageType::Ack));
    EXPECT_EQ(bytes[8], 0x04); // correlation id, low byte first
    EXPECT_EQ(bytes[11], 0x01);
}

TEST(FrameDecoder, WholeFrame_YieldsFrameThenNeedsMore)
{
    FrameDecoder decoder;
    decoder.feed(ping_frame(42));
    auto frame = decoder.next();
    ASSERT_TRUE(frame);
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->type, MessageType::Ping);
    EXPECT_EQ((*frame)->payload.size(), 8u);
    auto after = decoder.next();
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->has_value());
    EXPECT_FALSE(decoder.has_partial_frame());
}

TEST(FrameDecoder, ByteByByteFeeding_YieldsFrameOnlyAtLastByte)
{
    auto bytes = encode_message(9, Output { .stream = OutputStream::Stderr, .data = { 1, 0, 2, 0, 3 } });
    FrameDecoder decoder;
    for (size_t i = 0; i + 1 < bytes.size(); ++i) {
        decoder.feed(std::span(&bytes[i], 1));
        auto frame = decoder.next();
        ASSERT_TRUE(frame) << "byte " << i << ": " << frame.error().message;
        ASSERT_FALSE(frame->has_value()) << "frame complete early at byte " << i;
        EXPECT_TRUE(decoder.has_partial_frame());
    }
    decoder.feed(std::span(&bytes.back(), 1));
    auto frame = decoder.next();
    ASSERT_TRUE(frame);
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->correlation_id, 9u);
    EXPECT_EQ(
        decode_message(**frame).value(), Message(Output { .stream = OutputStream::Stderr, .data = { 1, 0, 2, 0, 3 } }));
}

TEST(FrameDecoder, TwoFramesInOneFeed_YieldsBothInOrder)
{
    auto bytes = ping_frame(1);
    auto second = ping_frame(2);
    bytes.insert(bytes.end(), second.begin(), second.end());
    FrameDecoder decoder;
    decoder.feed(bytes);
    auto first_frame = decoder.next();
    auto second_frame = decoder.next();
    ASSERT_TRUE(first_frame && first_frame->has_value());
    ASSERT_TRUE(second_frame && second_frame->has_value());
    EXPECT_EQ(decode_message(**first_frame).value(), Message(Ping { .nonce = 1 }));
    EXPECT_EQ(decode_message(**second_frame).value(), Message(Ping { .nonce = 2 }));
    EXPECT_FALSE(decoder.next()->has_value());
}

TEST(FrameDecoder, FrameSplitAcrossFeeds_IsReassembled)
{
    auto bytes = ping_frame(3);
    auto second = ping_frame(4);
    bytes.insert(bytes.end(), second.begin(), second.end());
    FrameDecoder decoder;
    decoder.feed(std::span(bytes).first(30)); // first frame (28 bytes) and 2 bytes of the second
    EXPECT_TRUE(decoder.next()->has_value());
    EXPECT_FALSE(decoder.next()->has_value());
    decoder.feed(std::span(bytes).subspan(30));
    auto frame = decoder.next();
    ASSERT_TRUE(frame && frame->has_value());
    EXPECT_EQ(decode_message(**frame).value(), Message(Ping { .nonce = 4 }));
}

TEST(FrameDecoder, TruncatedHeader_NeedsMoreAndReportsPartialFrame)
{
    auto bytes = ping_frame(5);
    FrameDecoder decoder;
    decoder.feed(std::span(bytes).first(frame_header_size - 1));
    auto frame = decoder.next();
    ASSERT_TRUE(frame);
    EXPECT_FALSE(frame->has_value());
    EXPECT_TRUE(decoder.has_partial_frame());
}

TEST(FrameDecoder, TruncatedPayload_NeedsMoreAndReportsPartialFrame)
{
    auto bytes = ping_frame(5);
    FrameDecoder decoder;
    decoder.feed(std::span(bytes).first(bytes.size() - 1));
    auto frame = decoder.next();
    ASSERT_TRUE(frame);
    EXPECT_FALSE(frame->has_value());
    EXPECT_TRUE(decoder.has_partial_frame());
}

TEST(FrameDecoder, OversizedLength_IsRejectedFromHeaderAlone)
{
    auto result = next_after_header(valid_header(MessageType::Stdin, max_payload_size + 1, 1));
    EXPECT_TRUE(error_mentions(result, "exceeds the limit"));
}

TEST(FrameDecoder, MaximumLength_WaitsForPayload)
{
    auto result = next_after_header(valid_header(MessageType::Stdin, max_payload_size, 1));
    ASSERT_TRUE(result) << result.error().message;
    EXPECT_FALSE(result->has_value());
}

TEST(FrameDecoder, FixedSizeTypeWithOtherLength_IsRejectedFromHeaderAlone)
{
    EXPECT_TRUE(error_mentions(next_after_header(valid_header(MessageType::Ping, 9)), "outside 8..8"));
    EXPECT_TRUE(error_mentions(next_after_header(valid_header(MessageType::Ack, 1)), "outside 0..0"));
    EXPECT_TRUE(error_mentions(next_after_header(valid_header(MessageType::Exec, 36, 1)), "outside 37.."));
}

TEST(FrameDecoder, BadMagic_IsRejected)
{
    auto header = valid_header(MessageType::Ping, 8);
    header.magic = 0x4b535549;
    EXPECT_TRUE(error_mentions(next_after_header(header), "bad magic 0x4b535549"));
}

TEST(FrameDecoder, UnsupportedVersion_IsRejected)
{
    auto header = valid_header(MessageType::Ping, 8);
    header.version = 2;
    EXPECT_TRUE(error_mentions(next_after_header(header), "unsupported protocol version 2"));
    header.version = 0;
    EXPECT_TRUE(error_mentions(next_after_header(header), "unsupported protocol version 0"));
}

TEST(FrameDecoder, NonZeroReserved_IsRejected)
{
    auto header = valid_header(MessageType::Ping, 8);
    header.reserved = 0x8000;
    EXPECT_TRUE(error_mentions(next_after_header(header), "reserved"));
}

TEST(FrameDecoder, UnknownFlags_AreRejected)
{
    auto header = valid_header(MessageType::Ping, 8);
    header.flags = 1;
    EXPECT_TRUE(error_mentions(next_after_header(header), "unknown flags"));
}

TEST(FrameDecoder, UnknownType_IsRejected)
{
    for (uint16_t type : { 0, 7, 15, 23, 50, 0xffff }) {
        auto header = valid_header(MessageType::Ping, 0);
        header.type = type;
        EXPECT_TRUE(error_mentions(next_after_header(header), "unknown message type")) << type;
    }
}

TEST(FrameDecoder, AfterError_StaysFailedEvenForValidInput)
{
    auto header = valid_header(MessageType::Ping, 8);
    header.magic = 0;
    FrameDecoder decoder;
    decoder.feed(header_bytes(header));
    EXPECT_FALSE(decoder.next());
    EXPECT_TRUE(decoder.has_failed());
    decoder.feed(ping_frame(1));
    auto again = decoder.next();
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("bad magic"), std::string::npos);
}

TEST(FrameDecoder, ErrorInSecondFrame_ReportedAfterFirstFrame)
{
    auto bytes = ping_frame(1);
    auto bad = header_bytes(valid_header(MessageType::Ping, 8));
    bad[0] = 'X';
    bytes.insert(bytes.end(), bad.begin(), bad.end());
    FrameDecoder decoder;
    decoder.feed(bytes);
    EXPECT_TRUE(decoder.next()->has_value());
    EXPECT_FALSE(decoder.next());
}

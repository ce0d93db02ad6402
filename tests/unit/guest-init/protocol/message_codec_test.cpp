// Round trips of every message type through encode_message_checked, FrameDecoder and
// decode_message, including empty, maximal and binary data.
#include "guest-init/protocol/message_codec.hpp"

#include "tests/unit/guest-init/protocol/protocol_test_support.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::protocol;
using namespace husk::protocol::testing;

namespace {
constexpr uint32_t connection_id = 0;
constexpr uint32_t operation_id = 77;

void expect_round_trip(Message const& message, uint32_t correlation_id = operation_id)
{
    auto bytes = encode_message_checked(correlation_id, message);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, encode_message(correlation_id, message)); // checked and unchecked agree
    FrameDecoder decoder;
    decoder.feed(*bytes);
    auto frame = decoder.next();
    ASSERT_TRUE(frame && frame->has_value());
    EXPECT_EQ((*frame)->type, message_type(message));
    EXPECT_EQ((*frame)->correlation_id, correlation_id);
    auto decoded = decode_message(**frame);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_TRUE(*decoded == message) << message_type_name(message_type(message));
    EXPECT_FALSE(decoder.has_partial_frame());
}

std::vector<uint8_t> binary_bytes(size_t size)
{
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<uint8_t>(i * 7); // includes 0x00 and 0xff
    return bytes;
}

Exec full_exec()
{
    return Exec {
        .argv = { "/bin/sh", "-c", "echo hi; exit 3", "" },
        .env = { "PATH=/usr/bin:/bin", "EMPTY=", "A==b" },
        .cwd = "/home/user dir",
        .uid = 1000,
        .gid = 100,
        .stdin_open = true,
        .timeout_ms = 30000,
        .output_limit_bytes = 1 << 20,
        .rlimits = { { RlimitResource::Nofile, 1024, 4096 }, { RlimitResource::Cpu, 10, rlimit_infinity } },
    };
}
} // namespace

TEST(MessageCodec, ConnectionMessages_RoundTrip)
{
    expect_round_trip(Hello { .version = 1, .capabilities = capability_bit(Capability::Exec) | (uint64_t { 1 } << 63) },
        connection_id);
    expect_round_trip(HelloReply { .version = 7, .capabilities = 0 }, connection_id);
    expect_round_trip(Ping { .nonce = 0xfedcba9876543210 }, connection_id);
    expect_round_trip(Pong { .nonce = 0 }, connection_id);
    expect_round_trip(Shutdown {}, connection_id);
    expect_round_trip(
        Refresh {
            .realtime_ns = 1'700'000'000'000'000'123, .entropy = { 1, 2, 3, 0, 255 }, .hostname = "husk-0a1b2c3d4e5f" },
        connection_id);
    expect_round_trip(Refresh {}, connection_id);
    expect_round_trip(Refresh { .realtime_ns = 5,
                          .entropy = { 9 },
                          .hostname = "husk-1",
                          .network = "husk.ip=10.231.0.14/30 husk.gw=10.231.0.13 husk.dns=10.231.0.13" },
        connection_id);
}

TEST(MessageCodec, RefreshWithoutNetwork_IsTheLayoutOlderAgentsRead)
{
    // realtime_ns, entropy (u32 length + bytes), hostname (u32 length + bytes), and nothing else.
    auto bytes = encode_message(connection_id, Refresh { .realtime_ns = 1, .entropy = { 7 }, .hostname = "h" });
    EXPECT_EQ(bytes.size(), frame_header_size + 8 + 4 + 1 + 4 + 1);
    auto with_network = encode_message(connection_id,
        Refresh { .realtime_ns = 1, .entropy = { 7 }, .hostname = "h", .network = "husk.ip=10.0.0.2/24" });
    EXPECT_EQ(with_network.size(), bytes.size() + 4 + 19);
}

TEST(MessageCodec, GenericReplies_RoundTripOnConnectionAndOperation)
{
    expect_round_trip(Ack {}, operation_id);
    expect_round_trip(Ack {}, connection_id);
    expect_round_trip(ErrorReply { .code = ErrorCode::NotFound, .message = "no such file: /x" });
    expect_round_trip(ErrorReply { .code = ErrorCode::Protocol, .message = "" }, connection_id);
    expect_round_trip(ErrorReply { .code = ErrorCode::Internal, .message = std::string("nul\0inside", 10) });
}

TEST(MessageCodec, FullExec_RoundTrips) { expect_round_trip(full_exec()); }

TEST(MessageCodec, MinimalExec_RoundTrips) { expect_round_trip(Exec { .argv = { "true" } }); }

TEST(MessageCodec, ExecWithMaximalCounts_RoundTrips)
{
    Exec exec { .argv = std::vector<std::string>(max_argv_count, "a"),
        .env = std::vector<std::string>(max_env_count, "K=v") };
    for (uint32_t resource = 0; resource < rlimit_resource_count; ++resource)
        exec.rlimits.push_back({ static_cast<RlimitResource>(resource), resource, resource + 1 });
    expect_round_trip(exec);
}

TEST(MessageCodec, ExecFillingMaximumPayload_RoundTripsAndOneMoreByteIsRejected)
{
    // 37 fixed bytes + 4 + 5 ("true") + N long argv entries of max_string_size; pad the last one.
    Exec exec { .argv = { "true" } };
    size_t size = 37 + 4 + 4;
    while (size + 4 + max_string_size <= max_payload_size) {
        exec.argv.push_back(std::string(max_string_size, 'x'));
        size += 4 + max_string_size;
    }
    exec.argv.push_back(std::string(max_payload_size - size - 4, 'y'));
    auto bytes = encode_message_checked(operation_id, exec);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->size(), frame_header_size + max_payload_size);
    expect_round_trip(exec);

    exec.argv.back().push_back('z');
    auto too_big = encode_message_checked(operation_id, exec);
    ASSERT_FALSE(too_big);
    EXPECT_NE(too_big.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(MessageCodec, JobStreamMessages_RoundTrip)
{
    expect_round_trip(Stdin { .data = {} });
    expect_round_trip(Stdin { .data = binary_bytes(4096) });
    expect_round_trip(StdinClose {});
    expect_round_trip(Output { .stream = OutputStream::Stdout, .data = {} });
    expect_round_trip(Output { .stream = OutputStream::Stderr, .data = binary_bytes(100) });
    expect_round_trip(Signal { .signo = 1 });
    expect_round_trip(Signal { .signo = 64 });
}

TEST(MessageCodec, MaximalChunks_RoundTrip)
{
    expect_round_trip(Stdin { .data = binary_bytes(max_chunk_size) });
    expect_round_trip(Output { .stream = OutputStream::Stdout, .data = binary_bytes(max_chunk_size) });
    expect_round_trip(FileData { .data = binary_bytes(max_chunk_size), .eof = true });
    expect_round_trip(FileWrite { .path = "/" + std::string(max_path_size - 1, 'p'),
        .mode = 0600,
        .offset = 0,
        .data = binary_bytes(max_chunk_size),
        .last_chunk = false });
}

TEST(MessageCodec, JobEndMessages_RoundTrip)
{
    expect_round_trip(Exited { .kind = ExitKind::Code, .value = 255, .stdout_truncated = true, .duration_us = 12345 });
    expect_round_trip(Exited { .kind = ExitKind::Signal, .value = 9, .stderr_truncated = true });
    expect_round_trip(Exited { .kind = ExitKind::TimedOut, .value = 9, .duration_us = ~uint64_t { 0 } });
    expect_round_trip(SpawnFailed { .error = SpawnError::NotFound, .message = "nosuch: not found" });
    expect_round_trip(SpawnFailed { .error = SpawnError::ResourceLimit, .message = std::string(max_string_size, 'm') });
}

TEST(MessageCodec, FileMessages_RoundTrip)
{
    expect_round_trip(FileWrite { .path = "/srv/empty", .mode = 0644, .offset = 0, .data = {}, .last_chunk = true });
    expect_round_trip(FileWrite { .path = "/bin/tool",
        .mode = 04755,
        .offset = 1 << 20,
        .data = { 0, 0, 'E', 'L', 'F', 0 },
        .last_chunk = false });
    expect_round_trip(FileRead { .path = "/etc/hostname", .offset = 5, .max_size = 1 });
    expect_round_trip(FileData { .data = {}, .eof = true });
    expect_round_trip(Stat { .path = "/" });
    expect_round_trip(StatReply { .kind = FileKind::Directory, .size = 4096, .mode = 0755, .mtime_ns = -1 });
    expect_round_trip(
        StatReply { .kind = FileKind::Symlink, .size = 0, .mode = 07777, .mtime_ns = 1700000000000000000 });
    expect_round_trip(Mkdir { .path = "/a/b/c", .mode = 0700, .parents = true });
    expect_round_trip(Remove { .path = "/a", .recursive = true });
}

TEST(MessageCodec, EncodeThenDecodeRaw_IsCanonical)
{
    // Re-encoding a decoded frame reproduces it byte for byte: no field has two encodings.
    auto bytes = encode_message(operation_id, full_exec());
    auto decoded = decode_bytes(bytes);
    ASSERT_TRUE(decoded) << error_of(decoded);
    EXPECT_EQ(encode_message(operation_id, *decoded), bytes);
}

TEST(MessageCodec, MessageType_MatchesAlternative)
{
    EXPECT_EQ(message_type(Message(Exec {})), MessageType::Exec);
    EXPECT_EQ(message_type(Message(ErrorReply {})), MessageType::ErrorReply);
    EXPECT_EQ(message_type_name(MessageType::FileWrite), "FileWrite");
    EXPECT_EQ(message_type_name(static_cast<MessageType>(999)), "unknown");
    EXPECT_EQ(message_name(Message(StatReply {})), "StatReply");
}

TEST(MessageCodec, EveryKnownType_HasADecoder)
{
    // An empty payload is wrong for most types, but must never be "unknown message type".
    for (uint32_t type = 0; type <= 0xffff; ++type) {
        if (!is_known_message_type(static_cast<uint16_t>(type)))
            continue;
        auto kind = static_cast<MessageType>(type);
        uint32_t id = correlation_scope(kind) == CorrelationScope::Connection ? 0 : 1;
        auto result = decode_message(frame_of(kind, {}, id));
        if (!result) {
            EXPECT_EQ(result.error().message.find("unknown message type"), std::string::npos) << type;
        }
    }
}

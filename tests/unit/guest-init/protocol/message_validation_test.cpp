// decode_message on hostile payloads: truncation, trailing bytes, oversized or inconsistent
// lengths and counts, NULs in C strings, unknown enum values, out-of-range numbers, wrong
// correlation ids and wrong senders. Each must be a clear error, never a crash.
#include "guest-init/protocol/message_codec.hpp"

#include "tests/unit/guest-init/protocol/protocol_test_support.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::protocol;
using namespace husk::protocol::testing;

namespace {
std::vector<uint8_t> payload_of(Message const& message)
{
    auto bytes = encode_message(1, message);
    return std::vector<uint8_t>(bytes.begin() + frame_header_size, bytes.end());
}

// Raw Exec payload with the given argv and env lists, all other fields zero/empty.
std::vector<uint8_t> exec_payload(std::vector<std::string> const& argv, std::vector<std::string> const& env = {})
{
    ByteWriter writer;
    writer.write_count(argv.size());
    for (auto const& text : argv)
        writer.write_string(text);
    writer.write_count(env.size());
    for (auto const& text : env)
        writer.write_string(text);
    writer.write_string(""); // cwd
    writer.write_u32(0); // uid
    writer.write_u32(0); // gid
    writer.write_u8(0); // stdin_open
    writer.write_u32(0); // timeout_ms
    writer.write_u64(0); // output_limit_bytes
    writer.write_count(0); // rlimits
    return writer.take();
}

std::string decode_error(MessageType type, std::vector<uint8_t> payload, uint32_t correlation_id = 1)
{
    return error_of(decode_message(frame_of(type, std::move(payload), correlation_id)));
}

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

#define EXPECT_REJECTED(error_text, expected_part)                                                                     \
    EXPECT_TRUE(contains(error_text, expected_part)) << "error was: " << (error_text)
} // namespace

TEST(MessageValidation, ValidExecPayload_Decodes)
{
    auto decoded = decode_message(frame_of(MessageType::Exec, exec_payload({ "ls", "-l" }, { "A=1" })));
    ASSERT_TRUE(decoded) << error_of(decoded);
    EXPECT_EQ(std::get<Exec>(*decoded).argv, (std::vector<std::string> { "ls", "-l" }));
}

TEST(MessageValidation, TrailingBytes_AreRejected)
{
    auto payload = payload_of(Ping { .nonce = 1 });
    payload.push_back(0);
    EXPECT_REJECTED(decode_error(MessageType::Ping, payload, 0), "1 trailing bytes");
    auto exec = exec_payload({ "ls" });
    exec.push_back(0);
    EXPECT_REJECTED(decode_error(MessageType::Exec, exec), "Exec: 1 trailing bytes");
}

TEST(MessageValidation, TruncatedPayload_IsRejectedAtEveryLength)
{
    Exec exec {
        .argv = { "/bin/echo", "x" }, .env = { "A=b" }, .cwd = "/", .rlimits = { { RlimitResource::Core, 0, 0 } }
    };
    auto payload = payload_of(exec);
    for (size_t size = 0; size < payload.size(); ++size) {
        auto error = decode_error(MessageType::Exec, std::vector<uint8_t>(payload.begin(), payload.begin() + size));
        EXPECT_NE(error, "(no error)") << "prefix of " << size << " bytes decoded";
    }
}

TEST(MessageValidation, StringLongerThanLimit_IsRejected)
{
    auto error = decode_error(MessageType::Exec, exec_payload({ "sh", std::string(max_string_size + 1, 'a') }));
    EXPECT_REJECTED(error, "argv[1]: length 65537 exceeds the limit of 65536");
    auto message
        = payload_of(SpawnFailed { .error = SpawnError::Other, .message = std::string(max_string_size + 1, 'm') });
    EXPECT_REJECTED(decode_error(MessageType::SpawnFailed, message), "message: length 65537");
    auto path = payload_of(Stat { .path = "/" + std::string(max_path_size, 'p') });
    EXPECT_REJECTED(decode_error(MessageType::Stat, path), "path: length 4096 exceeds");
}

TEST(MessageValidation, LengthPrefixBeyondPayload_IsRejected)
{
    ByteWriter writer;
    writer.write_u32(100); // claims 100 bytes of stdin data, carries 3
    writer.write_u8(1);
    writer.write_u8(2);
    writer.write_u8(3);
    EXPECT_REJECTED(decode_error(MessageType::Stdin, writer.take()), "data: truncated (needs 100 bytes, 3 left)");
}

TEST(MessageValidation, ArgvCountLargerThanRemainingBytes_IsRejectedBeforeAllocating)
{
    ByteWriter writer;
    writer.write_count(4000); // 4000 entries need at least 16000 bytes; the payload has far fewer
    writer.write_string("ls");
    auto payload = writer.take();
    payload.resize(64, 0);
    EXPECT_REJECTED(decode_error(MessageType::Exec, payload), "argv: count 4000 does not fit");
}

TEST(MessageValidation, ArgvOrEnvCountAboveLimit_IsRejected)
{
    ByteWriter writer;
    writer.write_count(max_argv_count + 1);
    auto payload = writer.take();
    payload.resize(37 + 4 * (max_argv_count + 1), 0);
    EXPECT_REJECTED(decode_error(MessageType::Exec, payload), "argv: count 4097 exceeds the limit of 4096");
    Exec exec { .argv = { "x" }, .env = std::vector<std::string>(max_env_count + 1, "A=1") };
    EXPECT_REJECTED(decode_error(MessageType::Exec, payload_of(exec)), "env: count 4097 exceeds");
}

TEST(MessageValidation, NulInCString_IsRejected)
{
    std::string with_nul("ab\0c", 4);
    EXPECT_REJECTED(decode_error(MessageType::Exec, exec_payload({ "ls", with_nul })), "argv[1]: contains a NUL byte");
    EXPECT_REJECTED(
        decode_error(MessageType::Exec, exec_payload({ "ls" }, { "A=" + with_nul })), "env[0]: contains a NUL byte");
    EXPECT_REJECTED(
        decode_error(MessageType::Remove, payload_of(Remove { .path = "/x" + with_nul })), "path: contains a NUL byte");
    EXPECT_REJECTED(decode_error(MessageType::Exec, payload_of(Exec { .argv = { "ls" }, .cwd = "/" + with_nul })),
        "cwd: contains a NUL byte");
}

TEST(MessageValidation, ExecSemantics_AreEnforced)
{
    EXPECT_REJECTED(decode_error(MessageType::Exec, exec_payload({})), "argv: must not be empty");
    EXPECT_REJECTED(decode_error(MessageType::Exec, exec_payload({ "" })), "argv[0]: the program must not be empty");
    EXPECT_REJECTED(
        decode_error(MessageType::Exec, exec_payload({ "ls" }, { "NOEQUALS" })), "env[0]: must be NAME=value");
    EXPECT_REJECTED(
        decode_error(MessageType::Exec, exec_payload({ "ls" }, { "=value" })), "env[0]: must be NAME=value");
    EXPECT_REJECTED(decode_error(MessageType::Exec, payload_of(Exec { .argv = { "ls" }, .cwd = "relative" })),
        "cwd: must be an absolute path");
}

TEST(MessageValidation, BadRlimits_AreRejected)
{
    auto with_rlimits = [](std::vector<Rlimit> rlimits) {
        return payload_of(Exec { .argv = { "ls" }, .rlimits = std::move(rlimits) });
    };
    EXPECT_REJECTED(decode_error(MessageType::Exec, with_rlimits({ { static_cast<RlimitResource>(16), 1, 1 } })),
        "rlimits[0]: unknown resource 16");
    EXPECT_REJECTED(decode_error(MessageType::Exec, with_rlimits({ { RlimitResource::Nofile, 2, 1 } })),
        "soft limit above hard limit");
    EXPECT_REJECTED(decode_error(MessageType::Exec,
                        with_rlimits({ { RlimitResource::Nofile, 1, 1 }, { RlimitResource::Nofile, 2, 2 } })),
        "rlimits[1]: resource 7 given twice");
}

TEST(MessageValidation, BadEnumValues_AreRejected)
{
    EXPECT_REJECTED(decode_error(MessageType::Output, { 0, 0, 0, 0, 0 }), "stream: 0 is not 1 or 2");
    EXPECT_REJECTED(decode_error(MessageType::Output, { 3, 0, 0, 0, 0 }), "stream: 3 is not 1 or 2");
    auto exited = payload_of(Exited { .kind = ExitKind::Code });
    exited[0] = 4;
    EXPECT_REJECTED(decode_error(MessageType::Exited, exited), "kind: unknown exit kind 4");
    exited[0] = 0;
    EXPECT_REJECTED(decode_error(MessageType::Exited, exited), "kind: unknown exit kind 0");
    EXPECT_REJECTED(
        decode_error(MessageType::SpawnFailed, payload_of(SpawnFailed { .error = static_cast<SpawnError>(8) })),
        "unknown spawn error 8");
    EXPECT_REJECTED(decode_error(MessageType::ErrorReply, payload_of(ErrorReply { .code = static_cast<ErrorCode>(0) })),
        "unknown error code 0");
    EXPECT_REJECTED(decode_error(MessageType::StatReply, payload_of(StatReply { .kind = static_cast<FileKind>(5) })),
        "unknown file kind 5");
}

TEST(MessageValidation, RefreshWithABadHostnameOrTooMuchEntropy_IsRejected)
{
    EXPECT_REJECTED(decode_error(MessageType::Refresh, payload_of(Refresh { .hostname = "a b" }), 0),
        "only letters, digits");
    EXPECT_REJECTED(decode_error(MessageType::Refresh, payload_of(Refresh { .hostname = "x/y" }), 0),
        "only letters, digits");
    EXPECT_REJECTED(decode_error(MessageType::Refresh, payload_of(Refresh { .hostname = std::string(65, 'a') }), 0),
        "hostname");
    Refresh big;
    big.entropy.resize(max_refresh_entropy_size + 1);
    EXPECT_FALSE(decode_error(MessageType::Refresh, payload_of(big), 0).empty());
    EXPECT_FALSE(decode_error(MessageType::Refresh, payload_of(Refresh {}), 7).empty()); // connection-level only
}

TEST(MessageValidation, RefreshWithABadNetwork_IsRejected)
{
    EXPECT_REJECTED(decode_error(MessageType::Refresh, payload_of(Refresh { .network = "husk.ip=10.0.0.2/24\nx" }), 0),
        "printable ASCII");
    EXPECT_REJECTED(decode_error(MessageType::Refresh,
                        payload_of(Refresh { .network = std::string(max_refresh_network_size + 1, 'a') }), 0),
        "network");
    // Present but empty: an encoder leaves an empty one out, so this is no encoding of anything.
    ByteWriter writer;
    writer.write_u64(0);
    writer.write_bytes(std::vector<uint8_t> {});
    writer.write_string("h");
    writer.write_string("");
    EXPECT_REJECTED(decode_error(MessageType::Refresh, writer.take(), 0), "present but empty");
    // A NUL inside, and bytes after the network field.
    auto with_nul = payload_of(Refresh { .network = "husk.ip=10.0.0.2/24" });
    with_nul.back() = 0;
    EXPECT_FALSE(decode_error(MessageType::Refresh, with_nul, 0).empty());
    auto trailing = payload_of(Refresh { .network = "husk.ip=10.0.0.2/24" });
    trailing.push_back(1);
    EXPECT_FALSE(decode_error(MessageType::Refresh, trailing, 0).empty());
}

TEST(MessageValidation, BooleanOtherThanZeroOrOne_IsRejected)
{
    auto payload = payload_of(Remove { .path = "/x", .recursive = true });
    payload.back() = 2;
    EXPECT_REJECTED(decode_error(MessageType::Remove, payload), "recursive: boolean is 2");
}

TEST(MessageValidation, SignalNumbers_OutsideOneToSixtyFourAreRejected)
{
    EXPECT_REJECTED(decode_error(MessageType::Signal, payload_of(Signal { .signo = 0 })), "signal 0 is outside 1..64");
    EXPECT_REJECTED(
        decode_error(MessageType::Signal, payload_of(Signal { .signo = 65 })), "signal 65 is outside 1..64");
    EXPECT_REJECTED(decode_error(MessageType::Exited, payload_of(Exited { .kind = ExitKind::Signal, .value = 0 })),
        "value: signal 0");
    EXPECT_REJECTED(decode_error(MessageType::Exited, payload_of(Exited { .kind = ExitKind::Code, .value = 256 })),
        "exit code 256 is above 255");
}

TEST(MessageValidation, FileFieldRanges_AreEnforced)
{
    EXPECT_REJECTED(decode_error(MessageType::Mkdir, payload_of(Mkdir { .path = "/d", .mode = 010000 })),
        "mode: mode 10000 has bits outside 7777");
    EXPECT_REJECTED(decode_error(MessageType::FileRead, payload_of(FileRead { .path = "/f", .max_size = 0 })),
        "max_size: 0 is outside 1..");
    EXPECT_REJECTED(
        decode_error(MessageType::FileRead, payload_of(FileRead { .path = "/f", .max_size = max_chunk_size + 1 })),
        "max_size");
    EXPECT_REJECTED(decode_error(MessageType::FileWrite,
                        payload_of(FileWrite { .path = "/f", .offset = (uint64_t { 1 } << 63) - 1, .data = { 1, 2 } })),
        "past the largest file offset");
    EXPECT_REJECTED(decode_error(MessageType::Stat, payload_of(Stat { .path = "" })), "path: must be an absolute path");
    EXPECT_REJECTED(
        decode_error(MessageType::Stat, payload_of(Stat { .path = "etc/passwd" })), "must be an absolute path");
}

TEST(MessageValidation, OversizedDataChunk_IsRejected)
{
    EXPECT_REJECTED(
        decode_error(MessageType::Stdin, payload_of(Stdin { .data = std::vector<uint8_t>(max_chunk_size + 1) })),
        "data: length 524289 exceeds the limit of 524288");
}

TEST(MessageValidation, VersionZeroHello_IsRejected)
{
    EXPECT_REJECTED(
        decode_error(MessageType::Hello, payload_of(Hello { .version = 0 }), 0), "version: must be at least 1");
}

TEST(MessageValidation, CorrelationIdOutsideScope_IsRejected)
{
    EXPECT_REJECTED(
        decode_error(MessageType::Ping, payload_of(Ping {}), 5), "connection message with correlation id 5");
    EXPECT_REJECTED(
        decode_error(MessageType::Exec, exec_payload({ "ls" }), 0), "operation message with correlation id 0");
    EXPECT_EQ(decode_error(MessageType::Ack, {}, 0), "(no error)");
    EXPECT_EQ(decode_error(MessageType::Ack, {}, 9), "(no error)");
}

TEST(MessageValidation, MessageFromWrongSender_IsRejected)
{
    auto exec = frame_of(MessageType::Exec, exec_payload({ "ls" }));
    EXPECT_TRUE(decode_message(exec, Peer::Host));
    EXPECT_REJECTED(error_of(decode_message(exec, Peer::Guest)), "not a message the guest may send");
    auto exited = frame_of(MessageType::Exited, payload_of(Exited {}));
    EXPECT_TRUE(decode_message(exited, Peer::Guest));
    EXPECT_REJECTED(error_of(decode_message(exited, Peer::Host)), "not a message the host may send");
}

TEST(MessageValidation, HandBuiltFrameWithUnknownTypeOrFlags_IsRejected)
{
    EXPECT_REJECTED(decode_error(static_cast<MessageType>(1000), {}), "unknown message type 1000");
    auto frame = frame_of(MessageType::Ack, {});
    frame.flags = 0x10;
    EXPECT_REJECTED(error_of(decode_message(frame)), "unknown frame flags");
}

TEST(EncodeChecked, InvalidMessage_IsRefusedWithTheDecodersReason)
{
    auto result = encode_message_checked(1, Exec { .argv = { "ls", std::string("a\0b", 3) } });
    ASSERT_FALSE(result);
    EXPECT_REJECTED(result.error().message, "Exec: argv[1]: contains a NUL byte");
    EXPECT_FALSE(encode_message_checked(0, Exec { .argv = { "ls" } })); // operation needs an id
    EXPECT_FALSE(encode_message_checked(
        1, Output { .stream = OutputStream::Stdout, .data = std::vector<uint8_t>(max_chunk_size + 1) }));
    EXPECT_TRUE(validate_message(0, Shutdown {}));
    EXPECT_FALSE(validate_message(3, Shutdown {}));
}

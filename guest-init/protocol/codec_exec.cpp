// Payload codecs of the job messages.
//   Exec:        argv (count u32, strings), env (count u32, strings), cwd string, uid u32, gid u32,
//                stdin_open u8, timeout_ms u32, output_limit_bytes u64,
//                rlimits (count u32, {resource u32, soft u64, hard u64})
//   Stdin:       data bytes            StdinClose: (empty)
//   Output:      stream u8, data bytes Signal: signo u32
//   Exited:      kind u8, value u32, stdout_truncated u8, stderr_truncated u8, duration_us u64
//   SpawnFailed: error u32, message string
#include "guest-init/protocol/codec_fields.hpp"

namespace husk::protocol::detail {

namespace {
constexpr size_t string_prefix_size = sizeof(uint32_t);
constexpr size_t rlimit_wire_size = sizeof(uint32_t) + 2 * sizeof(uint64_t);

void encode_strings(ByteWriter& writer, std::vector<std::string> const& strings)
{
    writer.write_count(strings.size());
    for (auto const& text : strings)
        writer.write_string(text);
}

Result<void> decode_strings(
    ByteReader& reader, std::string_view field, size_t max_count, std::vector<std::string>& strings)
{
    auto count = TRY(reader.read_count(field, max_count, string_prefix_size));
    strings.reserve(count);
    for (size_t i = 0; i < count; ++i)
        strings.push_back(TRY(reader.read_string(indexed(field, i), max_string_size, NulBytes::Rejected)));
    return {};
}

Result<void> check_env(std::vector<std::string> const& env)
{
    if (env.size() > max_env_count)
        return fail(
            "env: " + std::to_string(env.size()) + " entries exceeds the limit of " + std::to_string(max_env_count));
    for (size_t i = 0; i < env.size(); ++i) {
        TRY(check_string(indexed("env", i), env[i], max_string_size, NulBytes::Rejected));
        auto equals = env[i].find('=');
        if (equals == std::string::npos || equals == 0)
            return fail(indexed("env", i) + ": must be NAME=value with a non-empty NAME");
    }
    return {};
}

Result<void> check_rlimits(std::vector<Rlimit> const& rlimits)
{
    if (rlimits.size() > max_rlimit_count)
        return fail("rlimits: " + std::to_string(rlimits.size()) + " entries exceeds the limit of "
            + std::to_string(max_rlimit_count));
    uint32_t seen = 0; // bit per resource: a duplicate would make the effective limit order-dependent
    for (size_t i = 0; i < rlimits.size(); ++i) {
        auto resource = static_cast<uint32_t>(rlimits[i].resource);
        if (resource >= rlimit_resource_count)
            return fail(indexed("rlimits", i) + ": unknown resource " + std::to_string(resource));
        if (seen & (1u << resource))
            return fail(indexed("rlimits", i) + ": resource " + std::to_string(resource) + " given twice");
        seen |= 1u << resource;
        if (rlimits[i].soft > rlimits[i].hard)
            return fail(indexed("rlimits", i) + ": soft limit above hard limit");
    }
    return {};
}
} // namespace

void encode_fields(ByteWriter& writer, Exec const& message)
{
    encode_strings(writer, message.argv);
    encode_strings(writer, message.env);
    writer.write_string(message.cwd);
    writer.write_u32(message.uid);
    writer.write_u32(message.gid);
    writer.write_bool(message.stdin_open);
    writer.write_u32(message.timeout_ms);
    writer.write_u64(message.output_limit_bytes);
    writer.write_count(message.rlimits.size());
    for (auto const& rlimit : message.rlimits) {
        writer.write_u32(static_cast<uint32_t>(rlimit.resource));
        writer.write_u64(rlimit.soft);
        writer.write_u64(rlimit.hard);
    }
}

Result<void> decode_fields(ByteReader& reader, Exec& message)
{
    TRY(decode_strings(reader, "argv", max_argv_count, message.argv));
    TRY(decode_strings(reader, "env", max_env_count, message.env));
    message.cwd = TRY(reader.read_string("cwd", max_path_size, NulBytes::Rejected));
    message.uid = TRY(reader.read_u32("uid"));
    message.gid = TRY(reader.read_u32("gid"));
    message.stdin_open = TRY(reader.read_bool("stdin_open"));
    message.timeout_ms = TRY(reader.read_u32("timeout_ms"));
    message.output_limit_bytes = TRY(reader.read_u64("output_limit_bytes"));
    auto count = TRY(reader.read_count("rlimits", max_rlimit_count, rlimit_wire_size));
    message.rlimits.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        auto field = indexed("rlimits", i);
        Rlimit rlimit;
        rlimit.resource = static_cast<RlimitResource>(TRY(reader.read_u32(field)));
        rlimit.soft = TRY(reader.read_u64(field));
        rlimit.hard = TRY(reader.read_u64(field));
        message.rlimits.push_back(rlimit);
    }
    return {};
}

Result<void> check_fields(Exec const& message)
{
    if (message.argv.empty())
        return fail("argv: must not be empty");
    if (message.argv.size() > max_argv_count)
        return fail("argv: " + std::to_string(message.argv.size()) + " entries exceeds the limit of "
            + std::to_string(max_argv_count));
    for (size_t i = 0; i < message.argv.size(); ++i)
        TRY(check_string(indexed("argv", i), message.argv[i], max_string_size, NulBytes::Rejected));
    if (message.argv[0].empty())
        return fail("argv[0]: the program must not be empty");
    TRY(check_env(message.env));
    if (!message.cwd.empty())
        TRY(check_path("cwd", message.cwd));
    return check_rlimits(message.rlimits);
}

void encode_fields(ByteWriter& writer, Stdin const& message) { writer.write_bytes(message.data); }
Result<void> decode_fields(ByteReader& reader, Stdin& message)
{
    message.data = TRY(reader.read_bytes("data", max_chunk_size));
    return {};
}
Result<void> check_fields(Stdin const& message) { return check_data("data", message.data); }

void encode_fields(ByteWriter&, StdinClose const&) { }
Result<void> decode_fields(ByteReader&, StdinClose&) { return {}; }
Result<void> check_fields(StdinClose const&) { return {}; }

void encode_fields(ByteWriter& writer, Output const& message)
{
    writer.write_u8(static_cast<uint8_t>(message.stream));
    writer.write_bytes(message.data);
}
Result<void> decode_fields(ByteReader& reader, Output& message)
{
    message.stream = static_cast<OutputStream>(TRY(reader.read_u8("stream")));
    message.data = TRY(reader.read_bytes("data", max_chunk_size));
    return {};
}
Result<void> check_fields(Output const& message)
{
    if (message.stream != OutputStream::Stdout && message.stream != OutputStream::Stderr)
        return fail("stream: " + std::to_string(static_cast<unsigned>(message.stream)) + " is not 1 or 2");
    return check_data("data", message.data);
}

void encode_fields(ByteWriter& writer, Signal const& message) { writer.write_u32(message.signo); }
Result<void> decode_fields(ByteReader& reader, Signal& message)
{
    message.signo = TRY(reader.read_u32("signo"));
    return {};
}
Result<void> check_fields(Signal const& message) { return check_signal("signo", message.signo); }

void encode_fields(ByteWriter& writer, Exited const& message)
{
    writer.write_u8(static_cast<uint8_t>(message.kind));
    writer.write_u32(message.value);
    writer.write_bool(message.stdout_truncated);
    writer.write_bool(message.stderr_truncated);
    writer.write_u64(message.duration_us);
}
Result<void> decode_fields(ByteReader& reader, Exited& message)
{
    message.kind = static_cast<ExitKind>(TRY(reader.read_u8("kind")));
    message.value = TRY(reader.read_u32("value"));
    message.stdout_truncated = TRY(reader.read_bool("stdout_truncated"));
    message.stderr_truncated = TRY(reader.read_bool("stderr_truncated"));
    message.duration_us = TRY(reader.read_u64("duration_us"));
    return {};
}
Result<void> check_fields(Exited const& message)
{
    switch (message.kind) {
    case ExitKind::Code:
        if (message.value > max_exit_code)
            return fail("value: exit code " + std::to_string(message.value) + " is above 255");
        return {};
    case ExitKind::Signal:
    case ExitKind::TimedOut:
        return check_signal("value", message.value);
    }
    return fail("kind: unknown exit kind " + std::to_string(static_cast<unsigned>(message.kind)));
}

void encode_fields(ByteWriter& writer, SpawnFailed const& message)
{
    writer.write_u32(static_cast<uint32_t>(message.error));
    writer.write_string(message.message);
}
Result<void> decode_fields(ByteReader& reader, SpawnFailed& message)
{
    message.error = static_cast<SpawnError>(TRY(reader.read_u32("error")));
    message.message = TRY(reader.read_string("message", max_string_size, NulBytes::Allowed));
    return {};
}
Result<void> check_fields(SpawnFailed const& message)
{
    auto error = static_cast<uint32_t>(message.error);
    if (error < static_cast<uint32_t>(SpawnError::NotFound) || error > static_cast<uint32_t>(SpawnError::ResourceLimit))
        return fail("error: unknown spawn error " + std::to_string(error));
    return check_string("message", message.message, max_string_size, NulBytes::Allowed);
}

} // namespace husk::protocol::detail

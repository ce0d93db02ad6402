// husk-agent-probe: a host-side client for trying the husk-init agent in a real VM. It connects to
// the VMM's hybrid-vsock unix socket (`CONNECT <port>\n`, `OK <host port>\n`), says Hello, pings,
// runs one command with stdin closed, copies its output to stdout/stderr, optionally sends
// Shutdown, and exits like docker: the job's code, 128+N for signal N, 127 not found, 126 cannot
// execute, 125 anything else (agent or connection trouble). Protocol and connection errors go to
// stderr with the step that failed.
//
//   husk-agent-probe [--port N] [--timeout-ms N] [--no-connect-line] [--shutdown] [--refresh] UDS -- ARGV...
//
// --refresh sends a Refresh (host time, entropy, hostname husk-probe) after Ping, as the SDK does
// for a VM restored from a snapshot.
//
// --no-connect-line skips the handshake, for a socket that reaches the agent directly.
#include "guest-init/protocol/agent_port.hpp"
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"
#include "runtime/base/fd.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::protocol;

namespace {

constexpr int exit_runtime_error = 125;
constexpr int exit_cannot_execute = 126;
constexpr int exit_not_found = 127;
constexpr int exit_signal_base = 128;
constexpr uint32_t exec_id = 1;
constexpr uint64_t ping_nonce = 0x68757368; // "hush"
constexpr int reply_timeout_ms = 10'000;
constexpr size_t max_handshake_line = 32;

struct Options {
    std::string uds;
    uint32_t port { agent_port };
    uint32_t timeout_ms { 0 };
    bool connect_line { true };
    bool shutdown { false };
    bool refresh { false };
    std::vector<std::string> argv;
};

[[noreturn]] void usage()
{
    std::fprintf(stderr,
        "usage: husk-agent-probe [--port N] [--timeout-ms N] [--no-connect-line] [--shutdown] [--refresh] UDS -- "
        "ARGV...\n");
    std::exit(exit_runtime_error);
}

std::optional<uint32_t> parse_u32(char const* text)
{
    char* end = nullptr;
    errno = 0;
    unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value > UINT32_MAX)
        return std::nullopt;
    return static_cast<uint32_t>(value);
}

Options parse_options(int argc, char** argv)
{
    Options options;
    int i = 1;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        std::string argument = argv[i];
        if ((argument == "--port" || argument == "--timeout-ms") && i + 1 < argc) {
            auto value = parse_u32(argv[++i]);
            if (!value)
                usage();
            (argument == "--port" ? options.port : options.timeout_ms) = *value;
        } else if (argument == "--no-connect-line") {
            options.connect_line = false;
        } else if (argument == "--shutdown") {
            options.shutdown = true;
        } else if (argument == "--refresh") {
            options.refresh = true;
        } else if (options.uds.empty() && argument.rfind("--", 0) != 0) {
            options.uds = argument;
        } else {
            usage();
        }
    }
    for (++i; i < argc; ++i)
        options.argv.emplace_back(argv[i]);
    if (options.uds.empty() || options.argv.empty())
        usage();
    return options;
}

class Connection {
public:
    static Result<Connection> open(Options const& options)
    {
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        if (options.uds.size() >= sizeof address.sun_path)
            return fail("socket path too long: " + options.uds);
        std::memcpy(address.sun_path, options.uds.c_str(), options.uds.size());
        Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd.is_valid())
            return fail_errno("socket");
        if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
            return fail_errno("connect " + options.uds);
        Connection connection(std::move(fd));
        if (options.connect_line)
            TRY_CONTEXT(connection.handshake(options.port), "hybrid-vsock handshake");
        return connection;
    }

    Result<void> send(uint32_t id, Message const& message)
    {
        auto bytes = encode_message(id, message);
        return write_all(m_fd.get(), bytes.data(), bytes.size());
    }

    // The next message from the agent; `timeout_ms` < 0 waits forever.
    Result<std::pair<uint32_t, Message>> receive(int timeout_ms)
    {
        for (;;) {
            auto frame = TRY(m_decoder.next());
            if (frame) {
                auto message = TRY_CONTEXT(decode_message(*frame, Peer::Guest), "agent sent an invalid message");
                return std::pair { frame->correlation_id, std::move(message) };
            }
            pollfd fds { m_fd.get(), POLLIN, 0 };
            int ready = poll(&fds, 1, timeout_ms);
            if (ready < 0 && errno != EINTR)
                return fail_errno("poll");
            if (ready == 0)
                return fail("timed out waiting for the agent");
            uint8_t buffer[65536];
            ssize_t got = read(m_fd.get(), buffer, sizeof buffer);
            if (got < 0 && errno != EINTR)
                return fail_errno("read");
            if (got == 0)
                return fail("the agent closed the connection");
            if (got > 0)
                m_decoder.feed(std::span<uint8_t const>(buffer, static_cast<size_t>(got)));
        }
    }

private:
    explicit Connection(Fd fd)
        : m_fd(std::move(fd))
    {
    }

    Result<void> handshake(uint32_t port)
    {
        auto line = "CONNECT " + std::to_string(port) + "\n";
        TRY(write_all(m_fd.get(), line.data(), line.size()));
        // Byte by byte so nothing of the stream after the line is consumed here.
        std::string reply;
        while (reply.size() < max_handshake_line && (reply.empty() || reply.back() != '\n')) {
            char byte;
            ssize_t got = read(m_fd.get(), &byte, 1);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return fail("connection closed before the OK line (is the agent listening on port "
                    + std::to_string(port) + "?)");
            reply.push_back(byte);
        }
        if (reply.rfind("OK ", 0) != 0 || reply.back() != '\n')
            return fail("unexpected reply line: " + reply);
        return {};
    }

    Fd m_fd;
    FrameDecoder m_decoder;
};

int exit_code_for_spawn_error(SpawnError error)
{
    switch (error) {
    case SpawnError::NotFound:
        return exit_not_found;
    case SpawnError::PermissionDenied:
    case SpawnError::NotExecutable:
        return exit_cannot_execute;
    default:
        return exit_runtime_error;
    }
}

template<typename T>
Result<T> expect_reply(Connection& connection, char const* what)
{
    auto [id, message] = TRY_CONTEXT(connection.receive(reply_timeout_ms), what);
    if (auto* typed = std::get_if<T>(&message))
        return *typed;
    if (auto* error = std::get_if<ErrorReply>(&message))
        return fail(std::string(what) + ": ErrorReply: " + error->message);
    return fail(std::string(what) + ": unexpected " + std::string(message_type_name(message_type(message))));
}

Result<int> run(Options const& options)
{
    auto connection = TRY(Connection::open(options));
    TRY(connection.send(0, Hello { protocol_version, 0 }));
    auto hello = TRY(expect_reply<HelloReply>(connection, "Hello"));
    std::fprintf(stderr, "probe: agent speaks version %u, capabilities %#llx\n", hello.version,
        static_cast<unsigned long long>(hello.capabilities));
    TRY(connection.send(0, Ping { ping_nonce }));
    auto pong = TRY(expect_reply<Pong>(connection, "Ping"));
    if (pong.nonce != ping_nonce)
        return fail("Pong carries the wrong nonce");

    if (options.refresh) {
        // What Sandbox::restore sends a restored guest: the time, entropy, a hostname.
        Refresh refresh;
        refresh.realtime_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
                                                        .count());
        refresh.entropy.resize(64);
        if (getrandom(refresh.entropy.data(), refresh.entropy.size(), 0) != 64)
            return fail_errno("getrandom");
        refresh.hostname = "husk-probe";
        TRY(connection.send(0, refresh));
        TRY(expect_reply<Ack>(connection, "Refresh"));
        std::fprintf(stderr, "probe: refresh acknowledged\n");
    }

    Exec exec;
    exec.argv = options.argv;
    exec.timeout_ms = options.timeout_ms;
    TRY(connection.send(exec_id, exec));
    int code = exit_runtime_error;
    for (bool done = false; !done;) {
        auto [id, message] = TRY_CONTEXT(connection.receive(-1), "Exec");
        if (auto* output = std::get_if<Output>(&message)) {
            int fd = output->stream == OutputStream::Stdout ? STDOUT_FILENO : STDERR_FILENO;
            TRY(write_all(fd, output->data.data(), output->data.size()));
        } else if (auto* exited = std::get_if<Exited>(&message)) {
            code = exited->kind == ExitKind::Code ? static_cast<int>(exited->value)
                                                  : exit_signal_base + static_cast<int>(exited->value);
            std::fprintf(stderr, "probe: exited kind %u value %u after %llu us%s%s\n",
                static_cast<unsigned>(exited->kind), exited->value,
                static_cast<unsigned long long>(exited->duration_us),
                exited->stdout_truncated ? ", stdout truncated" : "",
                exited->stderr_truncated ? ", stderr truncated" : "");
            done = true;
        } else if (auto* failed = std::get_if<SpawnFailed>(&message)) {
            std::fprintf(stderr, "probe: spawn failed: %s\n", failed->message.c_str());
            code = exit_code_for_spawn_error(failed->error);
            done = true;
        } else if (auto* error = std::get_if<ErrorReply>(&message)) {
            return fail("Exec: ErrorReply: " + error->message);
        }
    }
    if (options.shutdown) {
        TRY(connection.send(0, Shutdown {}));
        TRY(expect_reply<Ack>(connection, "Shutdown"));
        std::fprintf(stderr, "probe: shutdown acknowledged\n");
    }
    return code;
}

} // namespace

int main(int argc, char** argv)
{
    auto options = parse_options(argc, argv);
    auto code = run(options);
    if (!code) {
        std::fprintf(stderr, "probe: %s\n", code.error().message.c_str());
        return exit_runtime_error;
    }
    return *code;
}

// The event thread's allow-list against the real EventLoop and vsock socket code, in a forked
// child: a loop built before the filter keeps working under it — transfers, polls, timeouts,
// accept, cancel, file-table updates, an AF_UNIX connect like a guest-initiated vsock stream —
// and tears down (socket removal, ring unmapping) without a violation.
#include "runtime/io/event_loop.hpp"
#include "runtime/vsock/unix_socket.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <optional>
#include <poll.h>
#include <string>

using namespace husk;
using namespace husk::testing_jail;
using namespace std::chrono_literals;

namespace {
EventLoopConfig event_config()
{
    EventLoopConfig config;
    config.opcodes
        = { IoOpcode::Poll, IoOpcode::Read, IoOpcode::Write, IoOpcode::Accept, IoOpcode::Timeout, IoOpcode::Cancel };
    config.fixed_file_count = 8;
    config.queue_depth = 16;
    return config;
}

bool run_until(EventLoop& loop, bool const& done)
{
    for (int round = 0; round < 200 && !done; ++round) {
        if (!loop.run_once(20ms))
            return false;
    }
    return done;
}

// Everything the event thread does after its filter is on; returns a step number on failure.
int exercise(EventLoop& loop, std::string const& socket_path, UnixListener& listener, int pipe_read, int pipe_write)
{
    auto read_end = loop.register_file(pipe_read);
    auto write_end = loop.register_file(pipe_write);
    auto listening = loop.register_file(listener.fd.get());
    if (!read_end || !write_end || !listening)
        return 10;

    static uint8_t const message[] = { 'h', 'i' };
    static uint8_t received[2] {};
    bool wrote = false, read = false, accepted = false, timed_out = false, cancelled = false;
    int accepted_fd = -1;
    if (!loop.write(*write_end, message, stream_offset, [&](int result) { wrote = result == 2; }))
        return 11;
    if (!loop.read(*read_end, received, stream_offset, [&](int result) { read = result == 2; }))
        return 12;
    if (!loop.accept(*listening, [&](int result) {
            accepted = result >= 0;
            accepted_fd = result;
        }))
        return 13;
    // A guest-initiated vsock stream: socket(AF_UNIX), connect, fcntl.
    auto client = connect_unix_socket(socket_path);
    if (!client)
        return 14;
    if (!run_until(loop, wrote) || !run_until(loop, read) || !run_until(loop, accepted))
        return 15;
    Fd accepted_socket(accepted_fd);
    if (!loop.timeout(1ms, [&](int) { timed_out = true; }) || !run_until(loop, timed_out))
        return 16;
    auto pending = loop.poll(*read_end, POLLIN, Multishot::Yes, [&](int result) { cancelled = result < 0; });
    if (!pending || !loop.cancel(*pending) || !run_until(loop, cancelled))
        return 17;
    if (!loop.unregister_file(*read_end))
        return 18;
    remove_unix_socket(socket_path, listener.identity); // lstat + unlink at tear-down
    return 0;
}
} // namespace

TEST(EventThreadSeccomp, EventLoopAndVsockSockets_WorkUnderTheFilter)
{
    auto probe = EventLoop::create(event_config());
    if (!probe && probe.error().message.find("io_uring is unavailable") != std::string::npos)
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << probe.error().message;
    ASSERT_TRUE(probe) << probe.error().message;
    probe = unexpected(Error { "closed", 0 });

    std::string directory_template = "/tmp/husk-jail-XXXXXX";
    ASSERT_NE(::mkdtemp(directory_template.data()), nullptr);
    std::string socket_path = directory_template + "/vsock";

    static std::optional<EventLoop> loop;
    static std::optional<UnixListener> listener;
    static int pipe_fds[2];
    static std::string path;
    path = socket_path;
    auto end = run_filtered(
        ThreadKind::Event,
        [] {
            int step = exercise(*loop, path, *listener, pipe_fds[0], pipe_fds[1]);
            loop.reset(); // ring tear-down under the filter
            listener.reset();
            return step;
        },
        [] {
            auto created = EventLoop::create(event_config());
            auto listening = listen_unix_socket(path, 4);
            if (!created || !listening || ::pipe(pipe_fds) != 0)
                ::_exit(99);
            loop.emplace(std::move(created).value());
            listener.emplace(std::move(listening).value());
        });
    ::unlink(socket_path.c_str());
    ::rmdir(directory_template.c_str());

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

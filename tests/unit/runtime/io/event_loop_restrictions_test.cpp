// EventLoop guard rails: the kernel restrictions (raw fds and unlisted opcodes refused with
// EACCES), the fixed-file table bound, argument checks, sockets, and tear-down with work pending.
#include "runtime/base/event_fd.hpp"
#include "runtime/io/event_loop.hpp"
#include "tests/unit/runtime/io/event_loop_test_support.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <liburing.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::testing_io;
using namespace std::chrono_literals;

namespace {

// True when the pipe holds no data (its read end is switched to non-blocking for the check).
bool pipe_is_empty(Fd const& read_end)
{
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    char byte = 0;
    return ::read(read_end.get(), &byte, 1) < 0 && errno == EAGAIN;
}

} // namespace

TEST(EventLoopRestrictions, RawFdWriteOnUnrestrictedRing_Succeeds)
{
    // Control for the next test: the same SQE works on a plain ring, so its EACCES there comes
    // from the restrictions and nothing else.
    io_uring ring {};
    int rc = io_uring_queue_init(4, &ring, 0);
    if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << std::strerror(-rc);
    ASSERT_EQ(rc, 0) << std::strerror(-rc);
    Pipe pipe = make_pipe();
    char const data[] = "x";
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_write(sqe, pipe.write_end.get(), data, 1, 0);

    ASSERT_EQ(io_uring_submit(&ring), 1);
    io_uring_cqe* cqe = nullptr;
    ASSERT_EQ(io_uring_wait_cqe(&ring, &cqe), 0);
    int result = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    io_uring_queue_exit(&ring);

    EXPECT_EQ(result, 1);
}

TEST(EventLoopRestrictions, SqeWithoutFixedFileFlag_IsRefusedWithEacces)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    Pipe pipe = make_pipe();
    char const data[] = "x";
    int result = 0;

    auto id = EventLoopTesting::submit_raw(
        loop, [&](io_uring_sqe& sqe) { io_uring_prep_write(&sqe, pipe.write_end.get(), data, 1, 0); },
        [&](int r) { result = r; });
    ASSERT_TRUE(id.has_value()) << id.error().message;
    ASSERT_TRUE(run_until(loop, [&] { return result != 0; }));

    EXPECT_EQ(result, -EACCES);
    EXPECT_TRUE(pipe_is_empty(pipe.read_end));
}

TEST(EventLoopRestrictions, OpcodeMissingFromConfig_IsRefusedByKernelAndByApi)
{
    EventLoopConfig config = all_opcodes_config();
    config.opcodes = { IoOpcode::Read, IoOpcode::Timeout };
    HUSK_CREATE_LOOP_OR_SKIP(loop, config);
    Pipe pipe = make_pipe();
    auto writer = loop.register_file(pipe.write_end.get());
    ASSERT_TRUE(writer.has_value());
    char const data[] = "x";
    int raw_write = 0;
    int raw_openat = 0;

    auto via_api = loop.write(*writer, std::span(reinterpret_cast<uint8_t const*>(data), 1), stream_offset, [](int) {});
    ASSERT_TRUE(EventLoopTesting::submit_raw(
        loop,
        [&](io_uring_sqe& sqe) {
            io_uring_prep_write(&sqe, static_cast<int>(writer->index), data, 1, 0);
            sqe.flags |= IOSQE_FIXED_FILE;
        },
        [&](int r) { raw_write = r; }));
    ASSERT_TRUE(EventLoopTesting::submit_raw(
        loop,
        [&](io_uring_sqe& sqe) {
            io_uring_prep_openat(&sqe, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0);
            sqe.flags |= IOSQE_FIXED_FILE;
        },
        [&](int r) { raw_openat = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return raw_write != 0 && raw_openat != 0; }));

    ASSERT_FALSE(via_api.has_value());
    EXPECT_NE(via_api.error().message.find("allow-list"), std::string::npos) << via_api.error().message;
    EXPECT_EQ(raw_write, -EACCES);
    EXPECT_EQ(raw_openat, -EACCES);
    EXPECT_TRUE(pipe_is_empty(pipe.read_end));
}

TEST(EventLoopRestrictions, MoreFilesThanTheTable_RegisterFailsClearlyUntilOneIsFreed)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config(2));
    Pipe pipe = make_pipe();
    auto first = loop.register_file(pipe.read_end.get());
    auto second = loop.register_file(pipe.write_end.get());
    ASSERT_TRUE(first.has_value() && second.has_value());

    auto third = loop.register_file(pipe.read_end.get());

    ASSERT_FALSE(third.has_value());
    EXPECT_NE(third.error().message.find("fixed-file table is full"), std::string::npos) << third.error().message;
    ASSERT_TRUE(loop.unregister_file(*first));
    auto reused = loop.register_file(pipe.read_end.get());
    ASSERT_TRUE(reused.has_value());
    EXPECT_EQ(reused->index, first->index);
}

TEST(EventLoopRestrictions, UnregisteredFile_OperationsAndUnregisterFail)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    std::array<uint8_t, 4> buffer {};

    auto read = loop.read(FixedFile { 3 }, buffer, 0, [](int) {});
    auto outside = loop.poll(FixedFile { 1000 }, POLLIN, Multishot::No, [](int) {});
    auto unregister = loop.unregister_file(FixedFile { 0 });
    auto negative = loop.register_file(-1);

    ASSERT_FALSE(read.has_value());
    EXPECT_NE(read.error().message.find("not registered"), std::string::npos) << read.error().message;
    EXPECT_FALSE(outside.has_value());
    EXPECT_FALSE(unregister.has_value());
    EXPECT_FALSE(negative.has_value());
    EXPECT_EQ(loop.pending_operations(), 0u);
}

TEST(EventLoopRestrictions, NegativeTimeout_IsRefused)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());

    auto negative = loop.timeout(-1ms, [](int) {});

    EXPECT_FALSE(negative.has_value());
}

TEST(EventLoopSockets, SocketPair_SendThenRecvTransfersBytes)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    Fd left(pair[0]);
    Fd right(pair[1]);
    auto sender = loop.register_file(left.get());
    auto receiver = loop.register_file(right.get());
    ASSERT_TRUE(sender.has_value() && receiver.has_value());
    std::string const message = "CONNECT 52\n";
    std::array<uint8_t, 32> buffer {};
    int sent = 0;
    int received = 0;

    ASSERT_TRUE(loop.recv(*receiver, buffer, 0, [&](int r) { received = r; }));
    ASSERT_TRUE(loop.send(*sender, bytes_of(message), MSG_NOSIGNAL, [&](int r) { sent = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return sent != 0 && received != 0; }));

    EXPECT_EQ(sent, static_cast<int>(message.size()));
    ASSERT_EQ(received, static_cast<int>(message.size()));
    EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + received), message);
}

TEST(EventLoopSockets, ListeningSocket_AcceptReturnsConnectedCloexecFd)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener.is_valid());
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    // Abstract name: nothing on the filesystem to clean up.
    std::string const name = "husk-io-accept-test-" + std::to_string(::getpid());
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    auto listening = loop.register_file(listener.get());
    ASSERT_TRUE(listening.has_value());
    int accepted = -1;
    bool done = false;
    ASSERT_TRUE(loop.accept(*listening, [&](int r) {
        accepted = r;
        done = true;
    }));
    settle(loop);
    Fd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));

    ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_TRUE(run_until(loop, [&] { return done; }));

    ASSERT_GE(accepted, 0) << std::strerror(-accepted);
    Fd connection(accepted);
    EXPECT_TRUE(::fcntl(connection.get(), F_GETFD) & FD_CLOEXEC);
    ASSERT_EQ(::write(client.get(), "!", 1), 1);
    char byte = 0;
    EXPECT_EQ(::read(connection.get(), &byte, 1), 1);
    EXPECT_EQ(byte, '!');
}

TEST(EventLoopLifetime, DestroyedWithBlockedRead_DoesNotRunItsCompletion)
{
    Pipe pipe = make_pipe();
    std::array<uint8_t, 8> buffer {};
    int calls = 0;
    {
        HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
        auto reader = loop.register_file(pipe.read_end.get());
        ASSERT_TRUE(reader.has_value());
        ASSERT_TRUE(loop.read(*reader, buffer, stream_offset, [&](int) { ++calls; }));
        settle(loop);
        ASSERT_EQ(loop.pending_operations(), 1u);
    }

    // The loop is gone and its read was cancelled: data written now stays in the pipe.
    ASSERT_EQ(::write(pipe.write_end.get(), "late", 4), 4);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(buffer[0], 0);
    EXPECT_FALSE(pipe_is_empty(pipe.read_end));
}

TEST(EventLoopLifetime, MovedLoop_KeepsWorking)
{
    HUSK_CREATE_LOOP_OR_SKIP(original, all_opcodes_config());
    EventLoop moved = std::move(original);
    int result = -1;

    ASSERT_TRUE(moved.timeout(1ms, [&](int r) { result = r; }));
    ASSERT_TRUE(run_until(moved, [&] { return result != -1; }));

    EXPECT_EQ(result, 0);
}

// io_uring keeps a file removed from the fixed table referenced until every request submitted
// before the removal has completed, and a long-lived multishot poll never does: without the
// loop re-arming such polls, a host socket the VMM closed would stay open and its peer would
// never see end-of-file.
TEST(EventLoopLifetime, UnregisteredSocketClosedWhileAMultishotPollLives_PeerSeesEndOfFile)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    auto event = EventFd::create();
    ASSERT_TRUE(event.has_value());
    auto event_file = loop.register_file(event->fd());
    ASSERT_TRUE(event_file.has_value());
    int events = 0;
    ASSERT_TRUE(loop.poll(*event_file, POLLIN, Multishot::Yes, [&](int r) {
        if (r > 0) {
            ++events;
            (void)event->consume();
        }
    }));
    settle(loop);
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair), 0);
    Fd ours(pair[0]);
    Fd peer(pair[1]);
    auto socket_file = loop.register_file(ours.get());
    ASSERT_TRUE(socket_file.has_value());
    settle(loop);

    ASSERT_TRUE(loop.unregister_file(*socket_file));
    ours = Fd();
    bool end_of_file = false;
    ASSERT_TRUE(run_until(loop, [&] {
        char byte = 0;
        end_of_file = ::read(peer.get(), &byte, 1) == 0;
        return end_of_file;
    }, 2s)) << "the closed socket is still held by io_uring";

    EXPECT_TRUE(end_of_file);
    ASSERT_TRUE(event->signal());
    EXPECT_TRUE(run_until(loop, [&] { return events == 1; })) << "the multishot poll stopped delivering events";
}

TEST(EventLoopLifetime, RecvWaitingWhileAnotherFileIsUnregistered_StillDeliversItsDataOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    int waiting_pair[2];
    int removed_pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, waiting_pair), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, removed_pair), 0);
    Fd waiting(waiting_pair[0]), waiting_peer(waiting_pair[1]);
    Fd removed(removed_pair[0]), removed_peer(removed_pair[1]);
    auto waiting_file = loop.register_file(waiting.get());
    auto removed_file = loop.register_file(removed.get());
    ASSERT_TRUE(waiting_file.has_value() && removed_file.has_value());
    std::array<uint8_t, 16> buffer {};
    std::vector<int> results;
    ASSERT_TRUE(loop.recv(*waiting_file, buffer, 0, [&](int r) { results.push_back(r); }));
    settle(loop);

    ASSERT_TRUE(loop.unregister_file(*removed_file));
    settle(loop);
    EXPECT_TRUE(results.empty()) << "the refresh must not reach the caller";
    ASSERT_EQ(::write(waiting_peer.get(), "ping", 4), 4);
    ASSERT_TRUE(run_until(loop, [&] { return !results.empty(); }));
    settle(loop);

    ASSERT_EQ(results, std::vector<int> { 4 });
    EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + 4), "ping");
    EXPECT_EQ(loop.pending_operations(), 0u);
}

// UnixVsockBackend with real AF_UNIX sockets on a real io_uring EventLoop: the listening socket's
// path rules and the CONNECT handshake (accepted, split, malformed, refused, timed out, over the
// stream limit). Stream I/O is in unix_vsock_backend_stream_test.cpp.
#include "tests/unit/runtime/vsock/unix_vsock_backend_test_fixture.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::testing;

namespace {

// --- the listening socket ---

TEST_F(UnixVsockBackendTest, Create_FreshPath_CreatesPrivateSocket)
{
    start();

    struct stat info { };
    ASSERT_EQ(::lstat(uds.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(UnixVsockBackendTest, Create_PathIsRegularFile_IsRefusedAndFileKept)
{
    {
        Fd file(::open(uds.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    }

    auto created = UnixVsockBackend::create(*loop, uds);

    EXPECT_FALSE(created);
    struct stat info { };
    ASSERT_EQ(::lstat(uds.c_str(), &info), 0);
    EXPECT_TRUE(S_ISREG(info.st_mode));
}

TEST_F(UnixVsockBackendTest, Create_PathIsSymlink_IsRefusedWithoutFollowing)
{
    std::string target = directory + "/elsewhere.sock";
    ASSERT_EQ(::symlink(target.c_str(), uds.c_str()), 0);

    auto created = UnixVsockBackend::create(*loop, uds);

    EXPECT_FALSE(created);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(target)));
}

TEST_F(UnixVsockBackendTest, Create_StaleSocket_IsReplaced)
{
    {
        auto stale = unix_socket();
        auto address = address_of(uds);
        ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    } // closed without anyone listening: what a crashed VMM leaves behind

    start();

    auto client = connect_client(uds);
    EXPECT_TRUE(client.is_valid());
}

TEST_F(UnixVsockBackendTest, Create_SocketSomeoneListensOn_IsRefused)
{
    auto other = listen_at(uds);

    auto created = UnixVsockBackend::create(*loop, uds);

    ASSERT_FALSE(created);
    EXPECT_NE(created.error().message.find("in use"), std::string::npos) << created.error().message;
}

TEST_F(UnixVsockBackendTest, Create_PathTooLongForPortSuffix_IsRefused)
{
    auto created = UnixVsockBackend::create(*loop, directory + "/" + std::string(100, 'p'));

    EXPECT_FALSE(created);
}

TEST_F(UnixVsockBackendTest, Destroy_RemovesSocketPath)
{
    start();

    backend.reset();

    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(uds)));
}

// --- host-initiated streams ---

TEST_F(UnixVsockBackendTest, HostConnect_ValidLine_DeviceSeesRequestAndClientGetsOk)
{
    start();
    auto client = connect_client(uds);

    send_text(client, "CONNECT 1234\n");
    ASSERT_TRUE(run_until([&] { return !events.connects.empty(); }));

    EXPECT_EQ(events.connects, std::vector<uint32_t> { 1234 });
    VsockConnectionKey key { 1234, 1u << 30 };
    backend->accept_stream(key);
    EXPECT_EQ(receive_on(client, 14), "OK 1073741824\n");
    EXPECT_TRUE(events.consumed.empty()); // the OK line is not guest data
}

TEST_F(UnixVsockBackendTest, HostConnect_LineInSeveralPieces_IsAssembled)
{
    start();
    auto client = connect_client(uds);

    for (std::string piece : { "CON", "NECT 5", "2\n" }) {
        send_text(client, piece);
        run_until([] { return false; }, 20ms);
    }

    ASSERT_TRUE(run_until([&] { return !events.connects.empty(); }));
    EXPECT_EQ(events.connects[0], 52u);
}

TEST_F(UnixVsockBackendTest, HostConnect_BytesAfterLine_AreDeliveredAfterAccept)
{
    start();
    auto client = connect_client(uds);
    send_text(client, "CONNECT 7\nearly bytes");
    ASSERT_TRUE(run_until([&] { return !events.connects.empty(); }));
    VsockConnectionKey key { 7, 1u << 30 };
    EXPECT_EQ(read_from_backend(key), ""); // not before the guest accepted

    backend->accept_stream(key);

    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; }));
    EXPECT_EQ(read_from_backend(key), "early bytes");
}

TEST_F(UnixVsockBackendTest, HostConnect_MalformedLine_ClosesClientWithoutAskingDevice)
{
    start();
    auto client = connect_client(uds);

    send_text(client, "CONNECT 01234\n");

    EXPECT_TRUE(closed_by_peer(client));
    EXPECT_TRUE(events.connects.empty());
    EXPECT_EQ(backend->stream_count(), 0u);
}

TEST_F(UnixVsockBackendTest, HostConnect_NoNewlineWithin32Bytes_ClosesClient)
{
    start();
    auto client = connect_client(uds);

    send_text(client, std::string(40, 'C'));

    EXPECT_TRUE(closed_by_peer(client));
    EXPECT_TRUE(events.connects.empty());
}

TEST_F(UnixVsockBackendTest, HostConnect_DeviceRefuses_ClosesClient)
{
    start();
    events.refuse = true;
    auto client = connect_client(uds);

    send_text(client, "CONNECT 1234\n");

    EXPECT_TRUE(closed_by_peer(client));
    EXPECT_EQ(events.connects.size(), 1u);
    EXPECT_EQ(backend->stream_count(), 0u);
}

TEST_F(UnixVsockBackendTest, HostConnect_SilentClient_IsDisconnectedAfterTimeout)
{
    start(UnixVsockBackendLimits { .max_streams = 8, .handshake_timeout = 50ms, .listen_backlog = 8 });
    auto client = connect_client(uds);

    EXPECT_TRUE(closed_by_peer(client));
    EXPECT_EQ(backend->stream_count(), 0u);
}

TEST_F(UnixVsockBackendTest, HostConnect_BeyondStreamLimit_IsClosed)
{
    start(UnixVsockBackendLimits { .max_streams = 1, .handshake_timeout = 5s, .listen_backlog = 8 });
    auto first = connect_client(uds);
    ASSERT_TRUE(run_until([&] { return backend->stream_count() == 1; }));

    auto second = connect_client(uds);

    EXPECT_TRUE(closed_by_peer(second));
    EXPECT_EQ(backend->stream_count(), 1u);
}

} // namespace

// UnixVsockBackend with real AF_UNIX sockets on a real io_uring EventLoop: the listening socket's
// path rules, the CONNECT handshake (accepted, malformed, refused, timed out), data both ways,
// half-close and reset, and guest-initiated connects to `<uds>_<port>`. A recording
// VsockBackendEvents stands in for the device.
#include "runtime/vsock/unix_vsock_backend.hpp"

#include "runtime/vsock/connect_line.hpp"
#include "virtio/vsock/packet.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;

namespace {

class RecordingEvents final : public VsockBackendEvents {
public:
    std::optional<VsockConnectionKey> on_host_connect(uint32_t guest_port) override
    {
        connects.push_back(guest_port);
        if (refuse)
            return std::nullopt;
        return VsockConnectionKey { guest_port, next_host_port++ };
    }
    void on_host_connect_result(VsockConnectionKey, VsockOpenOutcome) override { }
    void on_host_readable(VsockConnectionKey key) override { ++readable[key]; }
    void on_host_consumed(VsockConnectionKey key, uint32_t bytes) override { consumed[key] += bytes; }
    void on_host_reset(VsockConnectionKey key) override { resets.push_back(key); }

    bool refuse { false };
    uint32_t next_host_port { 1u << 30 };
    std::vector<uint32_t> connects;
    std::map<VsockConnectionKey, int> readable;
    std::map<VsockConnectionKey, uint64_t> consumed;
    std::vector<VsockConnectionKey> resets;
};

Fd unix_socket()
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.is_valid());
    return fd;
}

sockaddr_un address_of(std::string const& path)
{
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    return address;
}

Fd connect_client(std::string const& path)
{
    auto fd = unix_socket();
    auto address = address_of(path);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
    return fd;
}

Fd listen_at(std::string const& path)
{
    auto fd = unix_socket();
    auto address = address_of(path);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd.get(), 8), 0);
    return fd;
}

void send_text(Fd const& fd, std::string const& text)
{
    ASSERT_EQ(::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

class UnixVsockBackendTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "husk-vsock-test-XXXXXX";
        auto base = std::filesystem::temp_directory_path() / pattern;
        std::string templ = base.string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        directory = templ;
        uds = directory + "/vm.sock";

        EventLoopConfig config;
        config.opcodes = UnixVsockBackend::required_opcodes();
        config.fixed_file_count = 16;
        config.queue_depth = 64;
        auto created = EventLoop::create(config);
        if (!created && created.error().message.find("io_uring is unavailable") != std::string::npos)
            GTEST_SKIP() << "SKIPPING: this host refuses io_uring, UnixVsockBackend is NOT tested here: "
                         << created.error().message;
        ASSERT_TRUE(created) << created.error().message;
        loop.emplace(std::move(created).value());
    }
    void TearDown() override
    {
        backend.reset();
        loop.reset();
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
    }

    void start(UnixVsockBackendLimits limits = {})
    {
        auto created = UnixVsockBackend::create(*loop, uds, limits);
        ASSERT_TRUE(created) << created.error().message;
        backend = std::move(created).value();
        backend->set_events(&events);
    }
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit = 3s)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            auto processed = loop->run_once(10ms);
            if (!processed) {
                ADD_FAILURE() << processed.error().message;
                return false;
            }
        }
        return true;
    }
    // Runs the loop while collecting what `fd` receives, until `expected` bytes or EOF.
    std::string receive_on(Fd const& fd, size_t expected, bool* saw_eof = nullptr)
    {
        std::string received;
        bool eof = false;
        run_until([&] {
            char chunk[4096];
            for (;;) {
                ssize_t count = ::recv(fd.get(), chunk, sizeof chunk, MSG_DONTWAIT);
                if (count > 0) {
                    received.append(chunk, static_cast<size_t>(count));
                    continue;
                }
                if (count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                    eof = true;
                break;
            }
            return eof || received.size() >= expected;
        });
        if (saw_eof)
            *saw_eof = eof;
        return received;
    }
    bool closed_by_peer(Fd const& fd)
    {
        bool eof = false;
        receive_on(fd, SIZE_MAX, &eof);
        return eof;
    }
    std::string read_from_backend(VsockConnectionKey key, bool* end = nullptr)
    {
        std::vector<uint8_t> buffer(vsock::max_packet_payload);
        auto result = backend->read(key, buffer);
        if (end)
            *end = result.end_of_stream;
        return std::string(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(result.bytes));
    }
    // A host client that has done CONNECT and been accepted; returns its key.
    VsockConnectionKey connected_host_client(Fd& client, uint32_t guest_port = 1234)
    {
        client = connect_client(uds);
        send_text(client, "CONNECT " + std::to_string(guest_port) + "\n");
        EXPECT_TRUE(run_until([&] { return !events.connects.empty(); }));
        VsockConnectionKey key { guest_port, events.next_host_port - 1 };
        backend->accept_stream(key);
        auto ok = receive_on(client, format_ok_line(key.host_port).size());
        EXPECT_EQ(ok, format_ok_line(key.host_port));
        return key;
    }
    static std::span<uint8_t const> bytes(std::string const& text)
    {
        return { reinterpret_cast<uint8_t const*>(text.data()), text.size() };
    }

    std::string directory;
    std::string uds;
    std::optional<EventLoop> loop;
    RecordingEvents events;
    std::unique_ptr<UnixVsockBackend> backend;
};

// --- the listening socket ---

TEST_F(UnixVsockBackendTest, Create_FreshPath_CreatesPrivateSocket)
{
    start();

    struct stat info {};
    ASSERT_EQ(::lstat(uds.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(UnixVsockBackendTest, Create_PathIsRegularFile_IsRefusedAndFileKept)
{
    { Fd file(::open(uds.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }

    auto created = UnixVsockBackend::create(*loop, uds);

    EXPECT_FALSE(created);
    struct stat info {};
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

TEST_F(UnixVsockBackendTest, HostConnect_DataBothWays_FlowsAndIsCounted)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    send_text(client, "hello guest");
    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; }));
    EXPECT_EQ(read_from_backend(key), "hello guest");

    ASSERT_TRUE(backend->write(key, bytes("hello host")));
    EXPECT_EQ(receive_on(client, 10), "hello host");
    ASSERT_TRUE(run_until([&] { return events.consumed[key] == 10; }));
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

TEST_F(UnixVsockBackendTest, HostClientHalfCloses_ReadReportsEndOfStream)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    send_text(client, "bye");
    ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; }));
    std::string received;
    bool end = false;
    ASSERT_TRUE(run_until([&] {
        received += read_from_backend(key, &end);
        return end;
    }));

    EXPECT_EQ(received, "bye");
    ASSERT_TRUE(backend->write(key, bytes("still open the other way")));
    EXPECT_EQ(receive_on(client, 24), "still open the other way");
}

TEST_F(UnixVsockBackendTest, ShutdownWrite_ClientSeesDataThenEof)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    ASSERT_TRUE(backend->write(key, bytes("final")));
    backend->shutdown_write(key);

    bool eof = false;
    EXPECT_EQ(receive_on(client, SIZE_MAX, &eof), "final");
    EXPECT_TRUE(eof);
    EXPECT_FALSE(backend->write(key, bytes("more")));
}

TEST_F(UnixVsockBackendTest, Close_ClientSeesEof)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    backend->close(key);

    EXPECT_TRUE(closed_by_peer(client));
    EXPECT_EQ(backend->stream_count(), 0u);
    EXPECT_FALSE(backend->write(key, bytes("gone")));
}

TEST_F(UnixVsockBackendTest, HostClientGone_WriteEndsInReset)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    client.reset();
    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; })); // EOF arrives first
    (void)backend->write(key, bytes("into the void"));

    ASSERT_TRUE(run_until([&] { return !events.resets.empty(); }));
    EXPECT_EQ(events.resets[0], key);
    EXPECT_EQ(backend->stream_count(), 0u);
}

// --- guest-initiated streams ---

TEST_F(UnixVsockBackendTest, GuestConnect_ListenerAtPortPath_IsReachedAndCarriesData)
{
    start();
    auto listener = listen_at(uds + "_5000");
    VsockConnectionKey key { 77, 5000 };

    ASSERT_EQ(backend->open_stream(key), VsockOpenOutcome::Connected);

    Fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(peer.is_valid());
    ASSERT_TRUE(backend->write(key, bytes("from guest")));
    EXPECT_EQ(receive_on(peer, 10), "from guest");
    send_text(peer, "from host");
    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; }));
    EXPECT_EQ(read_from_backend(key), "from host");
}

TEST_F(UnixVsockBackendTest, GuestConnect_NothingListening_IsRefused)
{
    start();

    EXPECT_EQ(backend->open_stream({ 77, 5001 }), VsockOpenOutcome::Refused);
    EXPECT_EQ(backend->stream_count(), 0u);
}

TEST_F(UnixVsockBackendTest, GuestConnect_StaleSocketFile_IsRefused)
{
    start();
    {
        auto stale = unix_socket();
        auto address = address_of(uds + "_5002");
        ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    }

    EXPECT_EQ(backend->open_stream({ 77, 5002 }), VsockOpenOutcome::Refused);
}

TEST_F(UnixVsockBackendTest, Write_BeyondBufferBound_Fails)
{
    start();
    auto listener = listen_at(uds + "_5003");
    VsockConnectionKey key { 1, 5003 };
    ASSERT_EQ(backend->open_stream(key), VsockOpenOutcome::Connected);
    Fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)); // never reads

    std::string chunk(vsock::max_packet_payload, 'z');
    bool refused = false;
    for (int i = 0; i < 64 && !refused; ++i)
        refused = !backend->write(key, bytes(chunk));

    EXPECT_TRUE(refused);
}

} // namespace

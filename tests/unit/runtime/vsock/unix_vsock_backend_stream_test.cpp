// UnixVsockBackend stream I/O with real sockets: data both ways with consumption reports,
// half-closes in each direction, close and peer loss, and guest-initiated connects to
// `<uds>_<port>` (listening, missing, stale), plus the per-stream buffer bound.
#include "tests/unit/runtime/vsock/unix_vsock_backend_test_fixture.hpp"
#include "virtio/vsock/connection.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>

using namespace husk;
using namespace husk::testing;

namespace {

// --- host-initiated streams ---

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

// A read with nothing buffered while the next receive is in flight must not move where that
// receive lands: the guest once got the client's CONNECT line back as stream data.
TEST_F(UnixVsockBackendTest, ReadWhileNothingBuffered_LaterBytesArriveIntact)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    EXPECT_EQ(read_from_backend(key), "");
    send_text(client, "first");
    ASSERT_TRUE(run_until([&] { return events.readable[key] > 0; }));
    std::string received;
    ASSERT_TRUE(run_until([&] {
        received += read_from_backend(key);
        return received.size() >= 5;
    }));
    EXPECT_EQ(received, "first");

    EXPECT_EQ(read_from_backend(key), "");
    send_text(client, "second");
    received.clear();
    ASSERT_TRUE(run_until([&] {
        received += read_from_backend(key);
        return received.size() >= 6;
    }));
    EXPECT_EQ(received, "second");
}

// More than the receive buffer holds, read back in small pieces while receives keep landing:
// every byte arrives once, in order.
TEST_F(UnixVsockBackendTest, StreamLargerThanTheBuffer_ReadInPieces_ArrivesInOrder)
{
    start();
    Fd client;
    auto key = connected_host_client(client);
    std::string sent;
    for (int i = 0; sent.size() < 200 * 1024; ++i)
        sent += std::to_string(i) + ",";
    std::string received;
    size_t offset = 0;

    ASSERT_TRUE(run_until([&] {
        if (offset < sent.size()) {
            auto wrote = ::send(client.get(), sent.data() + offset, std::min<size_t>(sent.size() - offset, 7000),
                MSG_DONTWAIT | MSG_NOSIGNAL);
            if (wrote > 0)
                offset += static_cast<size_t>(wrote);
        }
        std::vector<uint8_t> piece(3000);
        auto result = backend->read(key, piece);
        received.append(piece.begin(), piece.begin() + static_cast<ptrdiff_t>(result.bytes));
        return received.size() >= sent.size();
    }, 20s));

    EXPECT_TRUE(received == sent) << "received " << received.size() << " of " << sent.size() << " bytes";
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

TEST_F(UnixVsockBackendTest, GuestBytesQueued_AreUnsentUntilTheHostSocketTookThem)
{
    // A stop after a guest power-off waits on this before it closes the host sockets.
    start();
    Fd client;
    auto key = connected_host_client(client);
    ASSERT_FALSE(backend->has_unsent_guest_data());

    ASSERT_TRUE(backend->write(key, bytes("the last words")));
    EXPECT_TRUE(backend->has_unsent_guest_data());

    ASSERT_TRUE(run_until([&] { return !backend->has_unsent_guest_data(); }));
    EXPECT_EQ(receive_on(client, 14), "the last words");
}

TEST_F(UnixVsockBackendTest, HostClientNotReading_KeepsGuestBytesUnsent)
{
    start();
    Fd client;
    auto key = connected_host_client(client);

    // Far more than a unix socket buffers: the client never reads, so the socket fills and the
    // stream's own buffer fills up behind it (further writes are refused at its bound).
    std::string chunk(64 * 1024, 'x');
    size_t accepted = 0;
    for (int i = 0; i < 32; ++i) {
        if (backend->write(key, bytes(chunk)))
            accepted += chunk.size();
        ASSERT_TRUE(loop->run_once(10ms));
    }

    EXPECT_GE(accepted, size_t { vsock_buffer_size });
    EXPECT_TRUE(backend->has_unsent_guest_data());
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

TEST_F(UnixVsockBackendTest, GuestConnect_OtherBase_GoesThereNotBesideTheListener)
{
    // As in the jail: the listener was made at its host path, guest connections use the path
    // the VMM sees from its root.
    start({}, directory + "/elsewhere");
    auto listener = listen_at(directory + "/elsewhere_5003");
    auto beside = listen_at(uds + "_5003");

    ASSERT_EQ(backend->open_stream({ 77, 5003 }), VsockOpenOutcome::Connected);

    pollfd pending[2] = { { listener.get(), POLLIN, 0 }, { beside.get(), POLLIN, 0 } };
    ASSERT_GE(::poll(pending, 2, 0), 0);
    EXPECT_TRUE(pending[0].revents & POLLIN);
    EXPECT_FALSE(pending[1].revents & POLLIN);
}

TEST_F(UnixVsockBackendTest, GuestConnect_EmptyBase_IsRefusedEvenWithAListener)
{
    start({}, std::string());
    auto listener = listen_at(uds + "_5004");

    EXPECT_EQ(backend->open_stream({ 77, 5004 }), VsockOpenOutcome::Refused);
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

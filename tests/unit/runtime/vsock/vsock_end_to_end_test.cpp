// The whole hybrid-vsock path without KVM: a host process's unix socket ⇄ UnixVsockBackend on a
// real io_uring loop ⇄ VsockDevice ⇄ MmioTransport ⇄ MockDriver playing the guest's virtio-vsock
// driver. Shows the pieces fit the way the VMM wires them: CONNECT, guest accept, OK, bytes both
// ways, and a guest-initiated connect to `<uds>_<port>`.
#include "runtime/vsock/unix_vsock_backend.hpp"
#include "virtio/testing/device_harness.hpp"
#include "virtio/vsock/vsock_device.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t guest_cid = 3;
constexpr std::array<uint16_t, 3> queue_sizes { 64, 64, 64 };

Fd unix_socket_to(std::string const& path, bool listen)
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    if (listen) {
        EXPECT_EQ(::bind(fd.get(), raw, sizeof address), 0);
        EXPECT_EQ(::listen(fd.get(), 4), 0);
    } else {
        EXPECT_EQ(::connect(fd.get(), raw, sizeof address), 0);
    }
    return fd;
}

class VsockEndToEndTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-vsock-e2e-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory = pattern;
        uds = directory + "/vm.sock";

        EventLoopConfig config;
        config.opcodes = UnixVsockBackend::required_opcodes();
        config.fixed_file_count = 16;
        auto created_loop = EventLoop::create(config);
        if (!created_loop && created_loop.error().message.find("io_uring is unavailable") != std::string::npos)
            GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << created_loop.error().message;
        ASSERT_TRUE(created_loop) << created_loop.error().message;
        loop.emplace(std::move(created_loop).value());
        auto created_backend = UnixVsockBackend::create(*loop, uds);
        ASSERT_TRUE(created_backend) << created_backend.error().message;
        backend = std::move(created_backend).value();
        device.emplace(guest_cid, *backend);

        auto created_harness = DeviceHarness::create(*device, 0x400000);
        ASSERT_TRUE(created_harness) << created_harness.error().message;
        harness = std::move(created_harness).value();
        memory = &harness->memory();
        driver = &harness->driver();
        ASSERT_TRUE(driver->start(0, queue_sizes));
        for (int i = 0; i < 8; ++i)
            post_rx();
        driver->kick(VsockDevice::rx_queue);
    }
    void TearDown() override
    {
        // The order the VMM must use too: transport and device before the backend, the backend
        // before the loop.
        harness.reset();
        device.reset();
        backend.reset();
        loop.reset();
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
    }

    void post_rx()
    {
        auto address = driver->allocate(vsock_header_size + 4096);
        ASSERT_TRUE(address);
        MockBuffer buffers[] = { { *address, vsock_header_size, BufferAccess::DeviceWritable },
            { address->unchecked_add(vsock_header_size), 4096, BufferAccess::DeviceWritable } };
        ASSERT_TRUE(driver->queue(VsockDevice::rx_queue).add_chain(buffers));
        rx_buffers.push_back(*address);
    }
    void transmit(VsockPacketHeader header, std::string const& payload = {})
    {
        header.src_cid = guest_cid;
        header.dst_cid = vsock::host_cid;
        header.type = vsock::type_stream;
        header.buf_alloc = 64 * 1024;
        header.len = static_cast<uint32_t>(payload.size());
        auto address = driver->allocate(vsock_header_size + payload.size() + 1);
        ASSERT_TRUE(address);
        ASSERT_TRUE(memory->write_obj(*address, header));
        ASSERT_TRUE(memory->write(address->unchecked_add(vsock_header_size),
            std::span(reinterpret_cast<uint8_t const*>(payload.data()), payload.size())));
        MockBuffer buffers[]
            = { { *address, static_cast<uint32_t>(vsock_header_size + payload.size()), BufferAccess::DeviceReadable } };
        ASSERT_TRUE(driver->queue(VsockDevice::tx_queue).add_chain(buffers));
        driver->kick(VsockDevice::tx_queue);
    }
    // Runs the loop until the guest has a new RX packet; returns its header and payload.
    std::optional<std::pair<VsockPacketHeader, std::string>> guest_receive()
    {
        std::optional<virtio::ring::UsedElement> used;
        run_until([&] {
            auto popped = driver->queue(VsockDevice::rx_queue).pop_used();
            if (popped && *popped)
                used = **popped;
            return used.has_value();
        });
        if (!used)
            return std::nullopt;
        // Chains were posted in order and are used in order.
        auto address = rx_buffers[rx_consumed++];
        post_rx();
        driver->kick(VsockDevice::rx_queue);
        auto header = memory->read_obj<VsockPacketHeader>(address);
        EXPECT_TRUE(header);
        std::string payload(header->len, '\0');
        EXPECT_TRUE(memory->read(address.unchecked_add(vsock_header_size),
            std::span(reinterpret_cast<uint8_t*>(payload.data()), payload.size())));
        EXPECT_EQ(used->length, vsock_header_size + header->len);
        return std::pair { *header, payload };
    }
    bool run_until(std::function<bool()> const& done)
    {
        auto deadline = std::chrono::steady_clock::now() + 3s;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            EXPECT_TRUE(loop->run_once(10ms));
        }
        return true;
    }
    std::string host_receive(Fd const& fd, size_t expected)
    {
        std::string received;
        run_until([&] {
            char chunk[256];
            ssize_t count = ::recv(fd.get(), chunk, sizeof chunk, MSG_DONTWAIT);
            if (count > 0)
                received.append(chunk, static_cast<size_t>(count));
            return received.size() >= expected || count == 0;
        });
        return received;
    }

    std::string directory;
    std::string uds;
    std::optional<EventLoop> loop;
    std::unique_ptr<UnixVsockBackend> backend;
    std::optional<VsockDevice> device;
    std::unique_ptr<DeviceHarness> harness; // transport and driver
    GuestMemory* memory { nullptr };
    MockDriver* driver { nullptr };
    std::vector<GuestAddress> rx_buffers;
    size_t rx_consumed { 0 };
};

TEST_F(VsockEndToEndTest, HostConnect_GuestAccepts_BytesFlowBothWays)
{
    auto client = unix_socket_to(uds, false);
    std::string connect = "CONNECT 1234\n";
    ASSERT_EQ(::send(client.get(), connect.data(), connect.size(), 0), static_cast<ssize_t>(connect.size()));

    auto request = guest_receive();
    ASSERT_TRUE(request);
    ASSERT_EQ(request->first.op, static_cast<uint16_t>(vsock::Op::Request));
    EXPECT_EQ(request->first.dst_port, 1234u);
    uint32_t host_port = request->first.src_port;

    VsockPacketHeader response {};
    response.op = static_cast<uint16_t>(vsock::Op::Response);
    response.src_port = 1234;
    response.dst_port = host_port;
    transmit(response);
    EXPECT_EQ(host_receive(client, 14), "OK " + std::to_string(host_port) + "\n");

    std::string hello = "hello from the host";
    ASSERT_EQ(::send(client.get(), hello.data(), hello.size(), 0), static_cast<ssize_t>(hello.size()));
    auto data = guest_receive();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->first.op, static_cast<uint16_t>(vsock::Op::Rw));
    EXPECT_EQ(data->second, hello);

    VsockPacketHeader reply {};
    reply.op = static_cast<uint16_t>(vsock::Op::Rw);
    reply.src_port = 1234;
    reply.dst_port = host_port;
    transmit(reply, "hello from the guest");
    EXPECT_EQ(host_receive(client, 20), "hello from the guest");
}

TEST_F(VsockEndToEndTest, GuestConnect_ToListeningHostPort_GetsResponseAndData)
{
    auto listener = unix_socket_to(uds + "_52", true);
    VsockPacketHeader request {};
    request.op = static_cast<uint16_t>(vsock::Op::Request);
    request.src_port = 9000;
    request.dst_port = 52;

    transmit(request);

    auto response = guest_receive();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->first.op, static_cast<uint16_t>(vsock::Op::Response));
    Fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(peer.is_valid());
    std::string answer = "service reply";
    ASSERT_EQ(::send(peer.get(), answer.data(), answer.size(), 0), static_cast<ssize_t>(answer.size()));
    auto data = guest_receive();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->second, answer);
}

TEST_F(VsockEndToEndTest, GuestConnect_NothingListening_GetsRst)
{
    VsockPacketHeader request {};
    request.op = static_cast<uint16_t>(vsock::Op::Request);
    request.src_port = 9001;
    request.dst_port = 53;

    transmit(request);

    auto reset = guest_receive();
    ASSERT_TRUE(reset);
    EXPECT_EQ(reset->first.op, static_cast<uint16_t>(vsock::Op::Rst));
    EXPECT_EQ(reset->first.dst_port, 9001u);
}

} // namespace

// UnixVsockBackendTest: the fixture shared by the UnixVsockBackend tests. A real io_uring loop,
// a backend listening in a fresh temporary directory, a recording VsockBackendEvents in place of
// the device, and helpers for host clients and listeners on plain AF_UNIX sockets.
#pragma once

#include "runtime/vsock/connect_line.hpp"
#include "runtime/vsock/unix_vsock_backend.hpp"
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

namespace husk::testing {

using namespace std::chrono_literals;

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

inline Fd unix_socket()
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.is_valid());
    return fd;
}

inline sockaddr_un address_of(std::string const& path)
{
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    return address;
}

inline Fd connect_client(std::string const& path)
{
    auto fd = unix_socket();
    auto address = address_of(path);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
    return fd;
}

inline Fd listen_at(std::string const& path)
{
    auto fd = unix_socket();
    auto address = address_of(path);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd.get(), 8), 0);
    return fd;
}

inline void send_text(Fd const& fd, std::string const& text)
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

    void start(UnixVsockBackendLimits limits = {}, std::optional<std::string> connect_base = std::nullopt)
    {
        auto created = UnixVsockBackend::create(*loop, uds, limits, std::move(connect_base));
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

} // namespace husk::testing

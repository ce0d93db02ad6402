// P9Device end to end through the mock driver and MmioTransport, with the real ShareServer on a
// temporary directory behind it: config space, requests and replies split across descriptors
// the way Linux's zero-copy reads lay them out, and the guest faults.
#include "virtio/p9/p9_device.hpp"

#include "runtime/share/share_server.hpp"
#include "tests/unit/runtime/share/p9_test_client.hpp"
#include "tests/unit/virtio/testing/device_test.hpp"

#include <array>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace husk;
using husk::testing::P9TestClient;
namespace msg = husk::p9::message;

namespace {
constexpr std::array<uint16_t, 1> one_queue { 64 };

std::unique_ptr<ShareServer> make_server(std::string const& directory)
{
    auto root = ShareRoot::open(directory, ShareAccess::ReadWrite, { ::geteuid(), ::getegid() });
    EXPECT_TRUE(root) << root.error().message;
    return std::make_unique<ShareServer>(std::move(root).value());
}
} // namespace

class P9DeviceTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override
    {
        std::string pattern = ::testing::TempDir() + "husk-p9dev-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        directory = pattern;
        std::ofstream(directory + "/file") << "0123456789";
        server = make_server(directory);
        device = std::make_unique<P9Device>("share0", *server);
        attach(*device, 0x200000);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(driver->start(virtio::feature_mask(p9::feature::mount_tag), one_queue));
    }
    void TearDown() override
    {
        DeviceTest::TearDown();
        device.reset();
        server.reset();
        std::filesystem::remove_all(directory);
    }

    // Posts `request` split into readable buffers of `splits` bytes (the rest in the last) and
    // writable buffers of `reply_sizes`; returns the used length.
    std::optional<uint32_t> exchange(std::vector<uint8_t> const& request, std::vector<uint32_t> splits,
        std::vector<uint32_t> reply_sizes, std::vector<MockBuffer>& replies)
    {
        std::vector<MockBuffer> chain;
        size_t at = 0;
        splits.push_back(static_cast<uint32_t>(request.size()));
        for (auto split : splits) {
            uint32_t length = static_cast<uint32_t>(std::min<size_t>(split, request.size() - at));
            auto readable = buffer(length, BufferAccess::DeviceReadable);
            EXPECT_TRUE(memory->write(readable.address, std::span(request).subspan(at, length)));
            chain.push_back(readable);
            at += length;
            if (at == request.size())
                break;
        }
        for (auto size : reply_sizes) {
            replies.push_back(buffer(size));
            chain.push_back(replies.back());
        }
        if (!driver->queue(0).add_chain(chain))
            return std::nullopt;
        driver->kick(0);
        auto used = next_used();
        if (!used)
            return std::nullopt;
        return used->length;
    }
    std::vector<uint8_t> reply_bytes(std::vector<MockBuffer> const& replies, uint32_t length)
    {
        std::vector<uint8_t> all;
        for (auto const& reply : replies) {
            auto part = bytes_at(reply.address, std::min<uint32_t>(reply.length, length - all.size()));
            all.insert(all.end(), part.begin(), part.end());
            if (all.size() == length)
                break;
        }
        return all;
    }

    // Sends `message` split into readable buffers of `splits` bytes, with writable buffers of
    // `reply_sizes`; returns the reply's bytes (empty when the chain was not used).
    std::vector<uint8_t> send(std::vector<uint8_t> const& message, std::vector<uint32_t> splits = {},
        std::vector<uint32_t> reply_sizes = { 64 })
    {
        std::vector<MockBuffer> replies;
        auto used = exchange(message, std::move(splits), std::move(reply_sizes), replies);
        EXPECT_TRUE(used);
        return used ? reply_bytes(replies, *used) : std::vector<uint8_t> {};
    }
    // A session: Tversion, Tattach (fid 0 = the root), then fid 1 walked to `name` and opened.
    void open_fid1(std::string const& name, uint32_t flags)
    {
        send(P9TestClient::message(msg::tversion, p9::no_tag, [](auto& w) {
            w.u32(512000);
            w.string(p9::protocol_version);
        }));
        send(P9TestClient::message(msg::tattach, 1, [](auto& w) {
            w.u32(0);
            w.u32(p9::no_fid);
            w.string("");
            w.string("");
            w.u32(0);
        }));
        send(P9TestClient::message(msg::twalk, 2, [&](auto& w) {
            w.u32(0);
            w.u32(1);
            w.u16(1);
            w.string(name);
        }));
        auto opened = send(P9TestClient::message(msg::tlopen, 3, [&](auto& w) {
            w.u32(1);
            w.u32(flags);
        }));
        ASSERT_EQ(opened.at(4), msg::reply_to(msg::tlopen));
    }

    std::string directory;
    std::unique_ptr<ShareServer> server;
    std::unique_ptr<P9Device> device;
};

TEST_F(P9DeviceTest, Config_NamesTheMountTag)
{
    EXPECT_EQ(driver->read_register(virtio::mmio::device_id), 9u);
    std::array<uint8_t, 8> config {};
    device->read_config(0, config);
    EXPECT_EQ(config[0], 6);
    EXPECT_EQ(config[1], 0);
    EXPECT_EQ(std::string(config.begin() + 2, config.end()), "share0");
}

TEST_F(P9DeviceTest, SplitRequestAndZeroCopyReplyLayout_ReadsTheFile)
{
    std::vector<MockBuffer> replies;
    auto version = P9TestClient::message(msg::tversion, p9::no_tag, [](auto& w) {
        w.u32(512000);
        w.string(p9::protocol_version);
    });
    auto used = exchange(version, { 3, 5 }, { 64 }, replies);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 4 + 1 + 2 + 4 + 2 + 8u);
    replies.clear();
    ASSERT_TRUE(exchange(P9TestClient::message(msg::tattach, 1,
                             [](auto& w) {
                                 w.u32(0);
                                 w.u32(p9::no_fid);
                                 w.string("");
                                 w.string("");
                                 w.u32(0);
                             }),
        {}, { 64 }, replies));
    replies.clear();
    ASSERT_TRUE(exchange(P9TestClient::message(msg::twalk, 2,
                             [](auto& w) {
                                 w.u32(0);
                                 w.u32(1);
                                 w.u16(1);
                                 w.string("file");
                             }),
        {}, { 64 }, replies));
    replies.clear();
    ASSERT_TRUE(exchange(P9TestClient::message(msg::tlopen, 3,
                             [](auto& w) {
                                 w.u32(1);
                                 w.u32(0);
                             }),
        {}, { 64 }, replies));
    // Linux's zero-copy read: an 11-byte header buffer, then the data pages.
    replies.clear();
    used = exchange(P9TestClient::message(msg::tread, 4,
                        [](auto& w) {
                            w.u32(1);
                            w.u64(2);
                            w.u32(6);
                        }),
        {}, { 11, 3, 100 }, replies);
    ASSERT_TRUE(used);
    ASSERT_EQ(*used, 11u + 6u);
    auto bytes = reply_bytes(replies, *used);
    EXPECT_EQ(bytes[4], msg::reply_to(msg::tread));
    EXPECT_EQ(std::string(bytes.begin() + 11, bytes.end()), "234567");
    EXPECT_EQ(device->stats().requests_served, 5u);
}

// Linux's zero-copy write: the 23-byte Twrite header in one buffer, the data in pages of their
// own. The device copies only the header; the data goes from guest memory to pwritev.
TEST_F(P9DeviceTest, ZeroCopyWriteLayout_WritesTheDataFromGuestMemory)
{
    open_fid1("file", O_RDWR);
    if (HasFatalFailure())
        return;

    std::string data;
    for (int i = 0; i < 20000; ++i)
        data += static_cast<char>('a' + i % 26);
    auto write = P9TestClient::message(msg::twrite, 4, [&](auto& w) {
        w.u32(1);
        w.u64(5);
        w.u32(static_cast<uint32_t>(data.size()));
        w.bytes(std::span(reinterpret_cast<uint8_t const*>(data.data()), data.size()));
    });
    auto reply = send(write, { p9::twrite_header_size, 4096, 4096, 4096, 4096 });

    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::reply_to(msg::twrite));
    EXPECT_EQ(reply[7] | reply[8] << 8 | reply[9] << 16, 20000);
    std::ifstream in(directory + "/file");
    std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(written, "01234" + data);

    // A count that disagrees with the data is refused like any malformed message.
    write[19] ^= 1;
    reply = send(write, { p9::twrite_header_size, 8192 });
    ASSERT_GE(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::rlerror);
    EXPECT_EQ(reply[7], EPROTO);
}

// The same zero-copy path whatever the layout: header and data in one buffer, or the header cut
// across buffers; a bad fid gets its Rlerror; a write under a page goes the copying way. The
// device's statistics count what went which way.
TEST_F(P9DeviceTest, ZeroCopyWriteOtherLayoutsAndErrors_ServedInPlaceAndCounted)
{
    open_fid1("file", O_RDWR);
    if (HasFatalFailure())
        return;
    auto twrite = [](uint32_t fid, uint64_t offset, std::string const& data) {
        return P9TestClient::message(msg::twrite, 4, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(static_cast<uint32_t>(data.size()));
            w.bytes(std::span(reinterpret_cast<uint8_t const*>(data.data()), data.size()));
        });
    };
    auto file = [&] {
        std::ifstream in(directory + "/file");
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    std::string data(6000, 'y');

    auto reply = send(twrite(1, 0, data), {}); // one buffer: header and data together
    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::reply_to(msg::twrite));
    EXPECT_EQ(file(), data);
    reply = send(twrite(1, 6000, data), { 5, 100 }); // the header cut across two buffers
    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::reply_to(msg::twrite));
    EXPECT_EQ(file(), data + data);
    reply = send(twrite(9, 0, data), { p9::twrite_header_size });
    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::rlerror);
    EXPECT_EQ(reply[7], EBADF);
    EXPECT_EQ(device->stats().writes_in_place.requests, 3u);
    EXPECT_EQ(device->stats().writes_in_place.bytes, 18000u);

    reply = send(twrite(1, 0, "small"), { p9::twrite_header_size });
    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::reply_to(msg::twrite));
    EXPECT_EQ(file().substr(0, 6), "smally");
    EXPECT_EQ(device->stats().writes_in_place.requests, 3u) << "a small write is copied";
    EXPECT_GT(device->stats().serving_ns, 0u);
    EXPECT_GE(device->stats().serving_ns, device->stats().longest_request_ns);
}

// A Tread with a page or more of reply room: the data goes from the file straight into the
// guest's buffers after the 11-byte header's room, whatever their layout.
TEST_F(P9DeviceTest, ZeroCopyReadLayout_ReadsTheDataIntoGuestMemory)
{
    std::string data;
    for (int i = 0; i < 20000; ++i)
        data += static_cast<char>('a' + i % 26);
    std::ofstream(directory + "/big") << data;
    open_fid1("big", O_RDONLY);
    if (HasFatalFailure())
        return;
    auto tread = [](uint64_t offset, uint32_t count) {
        return P9TestClient::message(msg::tread, 4, [&](auto& w) {
            w.u32(1);
            w.u64(offset);
            w.u32(count);
        });
    };

    // Linux's layout: the header alone, then pages; and one buffer holding both.
    for (auto layout : { std::vector<uint32_t> { 11, 4096, 4096, 4096, 4096, 4096 }, std::vector<uint32_t> { 30000 } }) {
        auto reply = send(tread(5, 20000), {}, layout);
        ASSERT_EQ(reply.size(), 11u + 19995u);
        EXPECT_EQ(reply[4], msg::reply_to(msg::tread));
        EXPECT_EQ(p9::WireReader(reply).u32(), 11u + 19995u);
        EXPECT_EQ(reply[7] | reply[8] << 8 | reply[9] << 16, 19995);
        EXPECT_EQ(std::string(reply.begin() + 11, reply.end()), data.substr(5));
    }
    EXPECT_EQ(device->stats().reads_in_place.requests, 2u);
    EXPECT_EQ(device->stats().reads_in_place.bytes, 2u * 19995u);
    // A count below the room reads only the count; a read at the end reads nothing.
    auto reply = send(tread(100, 5000), {}, { 11, 8192 });
    ASSERT_EQ(reply.size(), 11u + 5000u);
    EXPECT_EQ(std::string(reply.begin() + 11, reply.end()), data.substr(100, 5000));
    reply = send(tread(20000, 5000), {}, { 11, 8192 });
    EXPECT_EQ(reply.size(), 11u);
    // A bad fid gets its Rlerror in the header's place.
    auto bad = tread(0, 5000);
    bad[7] = 9;
    reply = send(bad, {}, { 11, 8192 });
    ASSERT_EQ(reply.size(), 11u);
    EXPECT_EQ(reply[4], msg::rlerror);
    EXPECT_EQ(reply[7], EBADF);
}

TEST_F(P9DeviceTest, RequestWithoutHeader_CompletesWithZeroLength)
{
    std::vector<MockBuffer> replies;
    auto used = exchange({ 1, 2, 3 }, {}, { 64 }, replies);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 0u);
    EXPECT_EQ(device->stats().requests_refused, 1u);
}

TEST_F(P9DeviceTest, RequestLongerThanMsizeCeiling_CompletesWithZeroLength)
{
    std::vector<uint8_t> huge(ShareServer::max_msize + 1, 0);
    std::vector<MockBuffer> replies;
    auto used = exchange(huge, { 1u << 19 }, { 64 }, replies);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 0u);
}

TEST_F(P9DeviceTest, NoRoomForAnyReply_CompletesWithZeroLengthAndDeviceGoesOn)
{
    std::vector<MockBuffer> replies;
    auto clunk = P9TestClient::message(msg::tclunk, 1, [](auto& w) { w.u32(5); });
    auto used = exchange(clunk, {}, { 4 }, replies);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 0u);
    replies.clear();
    used = exchange(clunk, {}, { 64 }, replies);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, 11u); // Rlerror(EBADF)
    EXPECT_EQ(driver->status() & virtio::status::device_needs_reset, 0u);
}

// parse_p9_request: well-formed messages decode field by field; malformed ones are refused with
// the errno the server answers (or with no tag when the header itself is unusable).
#include "tests/unit/runtime/share/p9_test_client.hpp"
#include "virtio/p9/p9_reply.hpp"
#include "virtio/p9/p9_request.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::p9;
using husk::testing::P9TestClient;

namespace {
std::vector<uint8_t> walk_message(uint16_t names, std::string_view name = "a")
{
    return P9TestClient::message(message::twalk, 9, [&](auto& w) {
        w.u32(1);
        w.u32(2);
        w.u16(names);
        for (uint16_t i = 0; i < names; ++i)
            w.string(name);
    });
}
} // namespace

TEST(P9Request, Walk_DecodesEveryField)
{
    auto bytes = walk_message(3, "name");
    auto parsed = parse_p9_request(bytes);
    ASSERT_TRUE(parsed.request) << parsed.problem;
    EXPECT_EQ(parsed.request->tag, 9);
    auto const& walk = std::get<Twalk>(parsed.request->body);
    EXPECT_EQ(walk.fid, 1u);
    EXPECT_EQ(walk.newfid, 2u);
    ASSERT_EQ(walk.names.size(), 3u);
    EXPECT_EQ(walk.names[2], "name");
}

TEST(P9Request, Write_DataIsAViewOfTheMessage)
{
    auto bytes = P9TestClient::message(message::twrite, 1, [](auto& w) {
        w.u32(4);
        w.u64(1ull << 40);
        w.u32(3);
        w.bytes(std::vector<uint8_t> { 'a', 'b', 'c' });
    });
    auto parsed = parse_p9_request(bytes);
    ASSERT_TRUE(parsed.request) << parsed.problem;
    auto const& write = std::get<Twrite>(parsed.request->body);
    EXPECT_EQ(write.offset, 1ull << 40);
    ASSERT_EQ(write.data.size(), 3u);
    EXPECT_EQ(write.data[2], 'c');
}

TEST(P9Request, ShorterThanHeader_HasNoTag)
{
    std::vector<uint8_t> bytes { 7, 0, 0, 0, message::tclunk, 1 };
    auto parsed = parse_p9_request(bytes);
    EXPECT_FALSE(parsed.request);
    EXPECT_FALSE(parsed.tag);
}

TEST(P9Request, SizeFieldLargerThanReceived_HasNoTag)
{
    auto bytes = walk_message(1);
    bytes[0] += 1;
    auto parsed = parse_p9_request(bytes);
    EXPECT_FALSE(parsed.request);
    EXPECT_FALSE(parsed.tag);
}

TEST(P9Request, SizeFieldBelowHeader_HasNoTag)
{
    auto bytes = walk_message(1);
    bytes[0] = 3;
    bytes[1] = bytes[2] = bytes[3] = 0;
    EXPECT_FALSE(parse_p9_request(bytes).tag);
}

TEST(P9Request, TruncatedField_IsEproto)
{
    auto bytes = walk_message(2);
    bytes.pop_back();
    bytes[0] -= 1; // size agrees with the shorter message: the last string runs past it
    auto parsed = parse_p9_request(bytes);
    EXPECT_FALSE(parsed.request);
    ASSERT_TRUE(parsed.tag);
    EXPECT_EQ(parsed.error, EPROTO);
}

TEST(P9Request, TrailingBytes_AreEproto)
{
    auto bytes = P9TestClient::message(message::tclunk, 1, [](auto& w) {
        w.u32(4);
        w.u8(0);
    });
    auto parsed = parse_p9_request(bytes);
    EXPECT_EQ(parsed.error, EPROTO);
}

TEST(P9Request, BytesBeyondTheSizeField_AreIgnored)
{
    auto bytes = P9TestClient::message(message::tclunk, 1, [](auto& w) { w.u32(4); });
    bytes.push_back(0xaa); // padding in the driver's buffer after the message
    EXPECT_TRUE(parse_p9_request(bytes).request);
}

TEST(P9Request, SeventeenWalkNames_AreEinval)
{
    EXPECT_TRUE(parse_p9_request(walk_message(16)).request);
    auto parsed = parse_p9_request(walk_message(17));
    EXPECT_FALSE(parsed.request);
    EXPECT_EQ(parsed.error, EINVAL);
}

TEST(P9Request, NulInsideAName_IsEinval)
{
    auto parsed = parse_p9_request(walk_message(1, std::string_view("a\0b", 3)));
    EXPECT_FALSE(parsed.request);
    EXPECT_EQ(parsed.error, EINVAL);
}

TEST(P9Request, UnknownOrReplyType_IsEopnotsupp)
{
    for (uint8_t type : { uint8_t(0), uint8_t(101), uint8_t(117), uint8_t(255), message::rlerror }) {
        auto parsed = parse_p9_request(P9TestClient::message(type, 3, [](auto&) {}));
        EXPECT_FALSE(parsed.request);
        EXPECT_EQ(parsed.error, EOPNOTSUPP) << int(type);
        EXPECT_EQ(parsed.tag, 3);
    }
}

TEST(P9Request, WriteCountBeyondTheMessage_IsEproto)
{
    auto bytes = P9TestClient::message(message::twrite, 1, [](auto& w) {
        w.u32(4);
        w.u64(0);
        w.u32(0xffffffffu);
        w.u8('x');
    });
    EXPECT_EQ(parse_p9_request(bytes).error, EPROTO);
}

TEST(P9Reply, ReplyLargerThanTheBuffer_BecomesEmsgsize)
{
    std::vector<uint8_t> buffer(16);
    ReplyWriter out(buffer);
    out.begin(message::reply_to(message::treadlink), 5);
    out.writer().string(std::string(100, 'x'));
    size_t size = out.finish();
    ASSERT_EQ(size, 11u);
    WireReader r { std::span<uint8_t const>(buffer).first(size) };
    EXPECT_EQ(r.u32(), 11u);
    EXPECT_EQ(r.u8(), message::rlerror);
    EXPECT_EQ(r.u16(), 5);
    EXPECT_EQ(r.u32(), static_cast<uint32_t>(EMSGSIZE));
}

TEST(P9Reply, BufferTooSmallForAnything_IsZero)
{
    std::vector<uint8_t> buffer(8);
    ReplyWriter out(buffer);
    EXPECT_EQ(out.error(1, EIO), 0u);
}

namespace {
std::vector<uint8_t> twrite_header(uint32_t size, uint8_t type, uint32_t count)
{
    std::vector<uint8_t> bytes(twrite_header_size);
    husk::p9::WireWriter w(bytes);
    w.u32(size);
    w.u8(type);
    w.u16(9);
    w.u32(4);
    w.u64(1000);
    w.u32(count);
    return bytes;
}
} // namespace

TEST(P9WriteHeader, P9WriteHeader_CountsTheDataLeftInGuestMemory)
{
    auto header = twrite_header(23 + 8192, husk::p9::message::twrite, 8192);
    auto parsed = husk::p9::parse_p9_write_header(header, 8192);
    ASSERT_TRUE(parsed.request) << parsed.problem;
    auto const& write = std::get<husk::p9::Twrite>(parsed.request->body);
    EXPECT_EQ(parsed.request->tag, 9);
    EXPECT_EQ(write.fid, 4u);
    EXPECT_EQ(write.offset, 1000u);
    EXPECT_EQ(write.external_count, 8192u);
    EXPECT_TRUE(write.data.empty());
}

TEST(P9WriteHeader, P9WriteHeader_Disagreeing_IsEproto)
{
    using husk::p9::parse_p9_write_header;
    namespace m = husk::p9::message;
    for (auto [header, external] : { std::pair { twrite_header(23 + 8192, m::twrite, 8191), uint64_t { 8192 } },
             { twrite_header(23 + 8191, m::twrite, 8192), 8192 }, { twrite_header(23 + 8192, m::tread, 8192), 8192 },
             { twrite_header(23, m::twrite, 0), 0 } }) {
        auto parsed = parse_p9_write_header(header, external);
        EXPECT_FALSE(parsed.request);
        ASSERT_TRUE(parsed.tag);
        EXPECT_EQ(parsed.error, EPROTO) << parsed.problem;
    }
    auto short_header = twrite_header(23 + 10, m::twrite, 10);
    short_header.pop_back();
    auto parsed = parse_p9_write_header(short_header, 10);
    EXPECT_FALSE(parsed.request);
    EXPECT_FALSE(parsed.tag);
}

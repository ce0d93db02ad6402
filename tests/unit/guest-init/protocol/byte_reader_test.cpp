// ByteReader/ByteWriter: little-endian layout, bounds on every read, strict booleans, counts
// checked against the bytes that remain.
#include "guest-init/protocol/byte_reader.hpp"

#include "guest-init/protocol/byte_writer.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::protocol;

TEST(ByteWriter, Scalars_AreLittleEndian)
{
    ByteWriter writer;
    writer.write_u16(0x0102);
    writer.write_u32(0x03040506);
    writer.write_u64(0x0708090a0b0c0d0e);
    EXPECT_EQ(writer.take(), (std::vector<uint8_t> { 2, 1, 6, 5, 4, 3, 0xe, 0xd, 0xc, 0xb, 0xa, 9, 8, 7 }));
}

TEST(ByteReader, WrittenFields_ReadBack)
{
    ByteWriter writer;
    writer.write_u8(0xab);
    writer.write_i64(-2);
    writer.write_bool(true);
    writer.write_string(std::string("a\0b", 3));
    writer.write_bytes(std::vector<uint8_t> { 0, 0xff });
    auto bytes = writer.take();
    ByteReader reader(bytes);
    EXPECT_EQ(reader.read_u8("u8").value(), 0xab);
    EXPECT_EQ(reader.read_i64("i64").value(), -2);
    EXPECT_TRUE(reader.read_bool("bool").value());
    EXPECT_EQ(reader.read_string("s", 16, NulBytes::Allowed).value(), std::string("a\0b", 3));
    EXPECT_EQ(reader.read_bytes("b", 16).value(), (std::vector<uint8_t> { 0, 0xff }));
    EXPECT_TRUE(reader.expect_end());
}

TEST(ByteReader, ReadPastEnd_FailsWithoutConsuming)
{
    std::vector<uint8_t> bytes { 1, 2, 3 };
    ByteReader reader(bytes);
    auto value = reader.read_u32("field");
    ASSERT_FALSE(value);
    EXPECT_EQ(value.error().message, "field: truncated (needs 4 bytes, 3 left)");
    EXPECT_EQ(reader.remaining(), 3u);
    EXPECT_EQ(reader.read_u16("x").value(), 0x0201);
}

TEST(ByteReader, LengthAboveMax_IsRejectedBeforeReadingData)
{
    ByteWriter writer;
    writer.write_bytes(std::vector<uint8_t>(17));
    auto bytes = writer.take();
    ByteReader reader(bytes);
    auto data = reader.read_bytes("data", 16);
    ASSERT_FALSE(data);
    EXPECT_EQ(data.error().message, "data: length 17 exceeds the limit of 16");
}

TEST(ByteReader, LengthPrefixOfFourGiB_IsRejectedAsTruncated)
{
    std::vector<uint8_t> bytes { 0xff, 0xff, 0xff, 0xff, 'a' };
    ByteReader reader(bytes);
    EXPECT_FALSE(reader.read_bytes("data", ~size_t { 0 }));
}

TEST(ByteReader, NulInRejectingString_IsAnError)
{
    ByteWriter writer;
    writer.write_string(std::string("x\0", 2));
    auto bytes = writer.take();
    ByteReader reader(bytes);
    auto text = reader.read_string("path", 16, NulBytes::Rejected);
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().message, "path: contains a NUL byte");
}

TEST(ByteReader, BooleanTwo_IsRejected)
{
    std::vector<uint8_t> bytes { 2 };
    ByteReader reader(bytes);
    EXPECT_FALSE(reader.read_bool("flag"));
}

TEST(ByteReader, CountNotFittingRemainingBytes_IsRejected)
{
    ByteWriter writer;
    writer.write_count(3);
    writer.write_u64(0); // room for 2 elements of 4 bytes, not 3
    auto bytes = writer.take();
    ByteReader exact(bytes);
    EXPECT_FALSE(exact.read_count("list", 100, 3)); // 3 * 3 = 9 > 8 bytes left
    ByteReader fits(bytes);
    EXPECT_EQ(fits.read_count("list", 100, 2).value(), 3u); // 3 * 2 = 6 <= 8
    ByteReader over_max(bytes);
    EXPECT_FALSE(over_max.read_count("list", 2, 1));
}

TEST(ByteReader, TrailingBytes_FailExpectEnd)
{
    std::vector<uint8_t> bytes { 0, 0 };
    ByteReader reader(bytes);
    EXPECT_TRUE(reader.read_u8("a"));
    auto end = reader.expect_end();
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().message, "1 trailing bytes after the last field");
}

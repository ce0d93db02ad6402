// vsock packet parsing: read_tx_packet over descriptor chains laid out in guest memory (split
// headers, bad lengths), validate_guest_header's identity checks, and write_rx_packet.
#include "virtio/vsock/packet.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t packet_guest_cid = 3;
constexpr uint64_t memory_size = 0x40000;

VsockPacketHeader stream_header(vsock::Op op, uint32_t length = 0)
{
    VsockPacketHeader header {};
    header.src_cid = packet_guest_cid;
    header.dst_cid = vsock::host_cid;
    header.src_port = 1000;
    header.dst_port = 52;
    header.len = length;
    header.type = vsock::type_stream;
    header.op = static_cast<uint16_t>(op);
    header.buf_alloc = 4096;
    return header;
}

std::vector<uint8_t> bytes_of(VsockPacketHeader const& header, std::string const& payload = {})
{
    std::vector<uint8_t> bytes(sizeof header + payload.size());
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + sizeof header, payload.data(), payload.size());
    return bytes;
}

class VsockPacketTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto created = GuestMemory::create({ { GuestAddress(0), memory_size } });
        ASSERT_TRUE(created);
        memory.emplace(std::move(created).value());
    }

    // Lays `bytes` out as consecutive device-readable buffers of the given sizes, each at its own
    // spaced-out address, so no two pieces are adjacent in guest memory.
    DescriptorChain readable_chain(std::vector<uint8_t> const& bytes, std::vector<uint32_t> const& sizes)
    {
        std::vector<ChainBuffer> buffers;
        size_t offset = 0;
        uint64_t address = 0x1000;
        for (uint32_t size : sizes) {
            size_t count = std::min<size_t>(size, bytes.size() - std::min(offset, bytes.size()));
            EXPECT_TRUE(memory->write(GuestAddress(address), std::span(bytes).subspan(offset, count)));
            buffers.push_back({ GuestAddress(address), size, BufferAccess::DeviceReadable });
            offset += count;
            address += 0x2000 + size;
        }
        return DescriptorChain(0, std::move(buffers));
    }

    std::optional<GuestMemory> memory;
    std::vector<uint8_t> payload_buffer = std::vector<uint8_t>(vsock::max_packet_payload);
};

TEST_F(VsockPacketTest, ReadTxPacket_HeaderSplitAcrossDescriptors_ParsesHeaderAndPayload)
{
    auto header = stream_header(vsock::Op::Rw, 5);
    auto chain = readable_chain(bytes_of(header, "hello"), { 10, 1, 33, 2, 3 });

    auto packet = read_tx_packet(*memory, chain, payload_buffer);

    ASSERT_TRUE(packet.ok()) << to_string(packet.error);
    EXPECT_EQ(packet.header.src_port, 1000u);
    EXPECT_EQ(packet.header.dst_port, 52u);
    EXPECT_EQ(packet.header.buf_alloc, 4096u);
    EXPECT_EQ(std::string(packet.payload.begin(), packet.payload.end()), "hello");
}

TEST_F(VsockPacketTest, ReadTxPacket_ShortHeader_ReportsShortHeader)
{
    auto bytes = bytes_of(stream_header(vsock::Op::Request));
    auto chain = readable_chain(bytes, { 20, 23 }); // 43 bytes: one short

    EXPECT_EQ(read_tx_packet(*memory, chain, payload_buffer).error, VsockPacketError::ShortHeader);
}

TEST_F(VsockPacketTest, ReadTxPacket_WritableBuffersOnly_ReportsShortHeader)
{
    DescriptorChain chain(0, { { GuestAddress(0x1000), 200, BufferAccess::DeviceWritable } });

    EXPECT_EQ(read_tx_packet(*memory, chain, payload_buffer).error, VsockPacketError::ShortHeader);
}

TEST_F(VsockPacketTest, ReadTxPacket_LenLargerThanChain_ReportsPayloadBeyondChain)
{
    auto chain = readable_chain(bytes_of(stream_header(vsock::Op::Rw, 100), std::string(99, 'x')), { 44, 99 });

    auto packet = read_tx_packet(*memory, chain, payload_buffer);

    EXPECT_EQ(packet.error, VsockPacketError::PayloadBeyondChain);
    EXPECT_EQ(packet.header.len, 100u); // the header is still reported, so the device can reset the stream
}

TEST_F(VsockPacketTest, ReadTxPacket_LenOverMaximum_ReportsPayloadTooLarge)
{
    uint32_t too_long = vsock::max_packet_payload + 1;
    auto chain = readable_chain(bytes_of(stream_header(vsock::Op::Rw, too_long)), { 44, too_long });

    EXPECT_EQ(read_tx_packet(*memory, chain, payload_buffer).error, VsockPacketError::PayloadTooLarge);
}

TEST_F(VsockPacketTest, ReadTxPacket_LenAtMaximum_IsAccepted)
{
    uint32_t length = vsock::max_packet_payload;
    auto chain
        = readable_chain(bytes_of(stream_header(vsock::Op::Rw, length), std::string(length, 'y')), { 44, length });

    auto packet = read_tx_packet(*memory, chain, payload_buffer);

    ASSERT_TRUE(packet.ok());
    EXPECT_EQ(packet.payload.size(), length);
}

TEST_F(VsockPacketTest, ReadTxPacket_ReadableBytesBeyondLen_AreIgnored)
{
    auto chain = readable_chain(bytes_of(stream_header(vsock::Op::Rw, 2), "abcdef"), { 50 });

    auto packet = read_tx_packet(*memory, chain, payload_buffer);

    ASSERT_TRUE(packet.ok());
    EXPECT_EQ(std::string(packet.payload.begin(), packet.payload.end()), "ab");
}

TEST_F(VsockPacketTest, ValidateGuestHeader_WellFormedStreamPacket_IsAccepted)
{
    EXPECT_EQ(validate_guest_header(stream_header(vsock::Op::Request), packet_guest_cid), VsockPacketError::None);
}

TEST_F(VsockPacketTest, ValidateGuestHeader_SeqpacketType_ReportsBadType)
{
    auto header = stream_header(vsock::Op::Request);
    header.type = vsock::type_seqpacket;

    EXPECT_EQ(validate_guest_header(header, packet_guest_cid), VsockPacketError::BadType);
}

TEST_F(VsockPacketTest, ValidateGuestHeader_OtherSourceCid_ReportsWrongSourceCid)
{
    auto header = stream_header(vsock::Op::Request);
    header.src_cid = packet_guest_cid + 1;

    EXPECT_EQ(validate_guest_header(header, packet_guest_cid), VsockPacketError::WrongSourceCid);
}

TEST_F(VsockPacketTest, ValidateGuestHeader_SourceCidWithHighBits_ReportsWrongSourceCid)
{
    auto header = stream_header(vsock::Op::Request);
    header.src_cid = packet_guest_cid | (uint64_t { 1 } << 32);

    EXPECT_EQ(validate_guest_header(header, packet_guest_cid), VsockPacketError::WrongSourceCid);
}

TEST_F(VsockPacketTest, ValidateGuestHeader_DestinationNotHost_ReportsWrongDestinationCid)
{
    auto header = stream_header(vsock::Op::Request);
    header.dst_cid = 7;

    EXPECT_EQ(validate_guest_header(header, packet_guest_cid), VsockPacketError::WrongDestinationCid);
}

TEST_F(VsockPacketTest, ValidateGuestHeader_InvalidOrUnknownOp_ReportsUnknownOp)
{
    for (uint16_t op : { 0, 8, 0xffff }) {
        auto header = stream_header(vsock::Op::Request);
        header.op = op;
        EXPECT_EQ(validate_guest_header(header, packet_guest_cid), VsockPacketError::UnknownOp) << op;
    }
}

TEST_F(VsockPacketTest, WriteRxPacket_SplitWritableChain_WritesHeaderThenPayload)
{
    DescriptorChain chain(7,
        { { GuestAddress(0x1000), 30, BufferAccess::DeviceWritable },
            { GuestAddress(0x3000), 4096, BufferAccess::DeviceWritable } });
    auto header = stream_header(vsock::Op::Rw, 3);
    std::string payload = "xyz";

    auto written
        = write_rx_packet(*memory, chain, header, std::span(reinterpret_cast<uint8_t const*>(payload.data()), 3));

    ASSERT_TRUE(written) << written.error().message;
    EXPECT_EQ(*written, 47u);
    std::vector<uint8_t> back(30 + 17);
    ASSERT_TRUE(memory->read(GuestAddress(0x1000), std::span(back).first(30)));
    ASSERT_TRUE(memory->read(GuestAddress(0x3000), std::span(back).subspan(30)));
    EXPECT_EQ(back, bytes_of(header, payload));
}

TEST_F(VsockPacketTest, WriteRxPacket_ChainTooSmall_FailsWithoutWriting)
{
    DescriptorChain chain(0, { { GuestAddress(0x1000), 40, BufferAccess::DeviceWritable } });
    ASSERT_TRUE(memory->fill(GuestAddress(0x1000), 0xee, 40));

    auto written = write_rx_packet(*memory, chain, stream_header(vsock::Op::Response), {});

    EXPECT_FALSE(written);
    std::vector<uint8_t> back(40);
    ASSERT_TRUE(memory->read(GuestAddress(0x1000), back));
    EXPECT_EQ(back, std::vector<uint8_t>(40, 0xee));
}

TEST_F(VsockPacketTest, IsValidGuestCid_ReservedValues_AreRejected)
{
    EXPECT_FALSE(vsock::is_valid_guest_cid(0));
    EXPECT_FALSE(vsock::is_valid_guest_cid(vsock::host_cid));
    EXPECT_TRUE(vsock::is_valid_guest_cid(3));
    EXPECT_TRUE(vsock::is_valid_guest_cid(0xffff'fffe));
    EXPECT_FALSE(vsock::is_valid_guest_cid(0xffff'ffff));
    EXPECT_FALSE(vsock::is_valid_guest_cid(uint64_t { 1 } << 32));
}

} // namespace

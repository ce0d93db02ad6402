// StreamDeframer: frames behind 4-byte big-endian lengths, read in arbitrary pieces; lengths of
// 0 or above the maximum break the stream for good.
#include "runtime/net/stream_deframer.hpp"

#include <algorithm>
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

using namespace husk;

namespace {

constexpr uint32_t max_frame = 1600;

std::vector<uint8_t> framed(uint32_t declared, size_t body_length, uint8_t seed)
{
    std::vector<uint8_t> bytes { static_cast<uint8_t>(declared >> 24), static_cast<uint8_t>(declared >> 16),
        static_cast<uint8_t>(declared >> 8), static_cast<uint8_t>(declared) };
    for (size_t i = 0; i < body_length; ++i)
        bytes.push_back(static_cast<uint8_t>(seed + i));
    return bytes;
}

std::vector<uint8_t> framed(size_t length, uint8_t seed) { return framed(static_cast<uint32_t>(length), length, seed); }

// Feeds `bytes` in pieces of at most `piece` bytes (as short reads would).
void feed(StreamDeframer& deframer, std::vector<uint8_t> const& bytes, size_t piece)
{
    size_t offset = 0;
    while (offset < bytes.size()) {
        auto space = deframer.free_space();
        ASSERT_FALSE(space.empty());
        auto count = std::min({ piece, space.size(), bytes.size() - offset });
        std::memcpy(space.data(), bytes.data() + offset, count);
        deframer.commit(count);
        offset += count;
    }
}

std::vector<uint8_t> body(std::vector<uint8_t> const& framed_bytes) { return { framed_bytes.begin() + 4, framed_bytes.end() }; }

} // namespace

TEST(StreamDeframer, Empty_NeedsMore)
{
    StreamDeframer deframer(max_frame);
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::NeedMore);
    EXPECT_FALSE(deframer.free_space().empty());
}

TEST(StreamDeframer, WholeFrame_IsPeekedThenPopped)
{
    StreamDeframer deframer(max_frame);
    auto bytes = framed(60, 1);
    feed(deframer, bytes, bytes.size());
    auto next = deframer.peek();
    ASSERT_EQ(next.status, StreamDeframer::Status::Frame);
    EXPECT_EQ(std::vector<uint8_t>(next.frame.begin(), next.frame.end()), body(bytes));
    deframer.pop();
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::NeedMore);
    EXPECT_EQ(deframer.buffered_bytes(), 0u);
}

TEST(StreamDeframer, FrameInOneBytePieces_CompleteOnlyAtItsLastByte)
{
    StreamDeframer deframer(max_frame);
    auto bytes = framed(100, 7);
    for (size_t i = 0; i < bytes.size(); ++i) {
        EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::NeedMore) << "after " << i << " bytes";
        feed(deframer, std::vector<uint8_t> { bytes[i] }, 1);
    }
    auto next = deframer.peek();
    ASSERT_EQ(next.status, StreamDeframer::Status::Frame);
    EXPECT_EQ(std::vector<uint8_t>(next.frame.begin(), next.frame.end()), body(bytes));
}

TEST(StreamDeframer, SeveralFramesInOneRead_ComeOutInOrder)
{
    StreamDeframer deframer(max_frame);
    std::vector<std::vector<uint8_t>> frames { framed(14, 1), framed(1500, 2), framed(max_frame, 3), framed(42, 4) };
    std::vector<uint8_t> stream;
    for (auto const& frame : frames)
        stream.insert(stream.end(), frame.begin(), frame.end());
    stream.resize(stream.size() - 10); // the last one is still partial
    feed(deframer, stream, stream.size());
    for (size_t i = 0; i < 3; ++i) {
        auto next = deframer.peek();
        ASSERT_EQ(next.status, StreamDeframer::Status::Frame) << i;
        EXPECT_EQ(std::vector<uint8_t>(next.frame.begin(), next.frame.end()), body(frames[i])) << i;
        deframer.pop();
    }
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::NeedMore);
    feed(deframer, std::vector<uint8_t>(frames[3].end() - 10, frames[3].end()), 10);
    ASSERT_EQ(deframer.peek().status, StreamDeframer::Status::Frame);
    EXPECT_EQ(deframer.peek().frame.size(), 42u);
}

TEST(StreamDeframer, LongRunOfPartialReads_NeverRunsOutOfSpace)
{
    StreamDeframer deframer(max_frame);
    for (int i = 0; i < 200; ++i) {
        auto bytes = framed(max_frame - static_cast<size_t>(i), static_cast<uint8_t>(i));
        feed(deframer, bytes, 777); // reads that end anywhere, frames consumed as they complete
        auto next = deframer.peek();
        ASSERT_EQ(next.status, StreamDeframer::Status::Frame) << i;
        ASSERT_EQ(std::vector<uint8_t>(next.frame.begin(), next.frame.end()), body(bytes)) << i;
        deframer.pop();
    }
}

TEST(StreamDeframer, ZeroLength_BreaksTheStreamForGood)
{
    StreamDeframer deframer(max_frame);
    feed(deframer, framed(0, 0, 0), 4);
    auto next = deframer.peek();
    EXPECT_EQ(next.status, StreamDeframer::Status::Broken);
    EXPECT_EQ(next.declared_length, 0u);
    EXPECT_TRUE(deframer.free_space().empty());
    deframer.pop(); // no effect
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::Broken);
}

TEST(StreamDeframer, LengthAboveTheMaximum_BreaksTheStream)
{
    StreamDeframer deframer(max_frame);
    feed(deframer, framed(max_frame + 1, 0, 0), 4);
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::Broken);
    EXPECT_EQ(deframer.peek().declared_length, max_frame + 1);

    StreamDeframer huge(max_frame);
    feed(huge, framed(0xffffffffu, 0, 0), 4);
    EXPECT_EQ(huge.peek().status, StreamDeframer::Status::Broken);
}

TEST(StreamDeframer, BadLengthAfterGoodFrames_GoodFramesStillComeOut)
{
    StreamDeframer deframer(max_frame);
    auto good = framed(80, 5);
    auto stream = good;
    auto bad = framed(0, 0, 0);
    stream.insert(stream.end(), bad.begin(), bad.end());
    feed(deframer, stream, stream.size());
    ASSERT_EQ(deframer.peek().status, StreamDeframer::Status::Frame);
    deframer.pop();
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::Broken);
}

TEST(StreamDeframer, PartialLengthPrefix_NeedsMore)
{
    StreamDeframer deframer(max_frame);
    feed(deframer, { 0, 0, 0 }, 3);
    EXPECT_EQ(deframer.peek().status, StreamDeframer::Status::NeedMore);
    feed(deframer, { 1, 0xaa }, 2);
    auto next = deframer.peek();
    ASSERT_EQ(next.status, StreamDeframer::Status::Frame);
    EXPECT_EQ(next.frame.size(), 1u);
    EXPECT_EQ(next.frame[0], 0xaa);
}

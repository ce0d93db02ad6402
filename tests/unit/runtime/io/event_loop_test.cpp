// EventLoop on a real io_uring: polls (one-shot and multishot), transfers through fixed files,
// cancel, timeouts, stop() from another thread, and the kernel-enforced restrictions.
#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/io/event_loop.hpp"
#include "tests/unit/runtime/io/event_loop_test_support.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <gtest/gtest.h>
#include <liburing.h>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::testing_io;
using namespace std::chrono_literals;

TEST(EventLoop, EventFdWrittenFromAnotherThread_PollCompletesWithPollIn)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    auto event = EventFd::create();
    ASSERT_TRUE(event.has_value());
    auto file = loop.register_file(event->fd());
    ASSERT_TRUE(file.has_value()) << file.error().message;
    int result = 0;
    int calls = 0;
    ASSERT_TRUE(loop.poll(*file, POLLIN, Multishot::No, [&](int r) {
        result = r;
        ++calls;
    }));

    std::thread writer([&] {
        std::this_thread::sleep_for(20ms);
        (void)event->signal();
    });
    bool done = run_until(loop, [&] { return calls > 0; });
    writer.join();

    ASSERT_TRUE(done);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(result & POLLIN) << result;
    EXPECT_EQ(loop.pending_operations(), 0u);
}

TEST(EventLoop, MultishotPoll_FiresOncePerSignalThenCancelsOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    auto event = EventFd::create();
    ASSERT_TRUE(event.has_value());
    auto file = loop.register_file(event->fd());
    ASSERT_TRUE(file.has_value());
    std::vector<int> results;
    auto id = loop.poll(*file, POLLIN, Multishot::Yes, [&](int r) {
        results.push_back(r);
        (void)event->consume();
    });
    ASSERT_TRUE(id.has_value());

    ASSERT_TRUE(event->signal());
    ASSERT_TRUE(run_until(loop, [&] { return results.size() == 1; }));
    ASSERT_TRUE(event->signal());
    ASSERT_TRUE(run_until(loop, [&] { return results.size() == 2; }));
    EXPECT_EQ(loop.pending_operations(), 1u); // still armed
    ASSERT_TRUE(loop.cancel(*id));
    ASSERT_TRUE(run_until(loop, [&] { return results.size() == 3; }));
    ASSERT_TRUE(event->signal()); // must not reach the cancelled poll
    settle(loop);

    ASSERT_EQ(results.size(), 3u);
    EXPECT_TRUE(results[0] & POLLIN);
    EXPECT_TRUE(results[1] & POLLIN);
    EXPECT_EQ(results[2], -ECANCELED);
    EXPECT_EQ(loop.pending_operations(), 0u);
}

TEST(EventLoop, PipeThroughFixedFiles_WriteThenReadTransfersBytes)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    Pipe pipe = make_pipe();
    auto reader = loop.register_file(pipe.read_end.get());
    auto writer = loop.register_file(pipe.write_end.get());
    ASSERT_TRUE(reader.has_value() && writer.has_value());
    std::string const message = "virtqueue";
    std::array<uint8_t, 32> buffer {};
    int written = 0;
    int read = 0;

    ASSERT_TRUE(loop.write(*writer, bytes_of(message), stream_offset, [&](int r) { written = r; }));
    ASSERT_TRUE(loop.read(*reader, buffer, stream_offset, [&](int r) { read = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return written != 0 && read != 0; }));

    EXPECT_EQ(written, static_cast<int>(message.size()));
    ASSERT_EQ(read, static_cast<int>(message.size()));
    EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + read), message);
}

TEST(EventLoop, PipeThroughFixedFiles_WritevThenReadvGathersAndScatters)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    Pipe pipe = make_pipe();
    auto reader = loop.register_file(pipe.read_end.get());
    auto writer = loop.register_file(pipe.write_end.get());
    ASSERT_TRUE(reader.has_value() && writer.has_value());
    char head[] = "head-";
    char tail[] = "tail";
    std::array<iovec, 2> out { iovec { head, 5 }, iovec { tail, 4 } };
    std::array<char, 3> first {};
    std::array<char, 6> second {};
    std::array<iovec, 2> in { iovec { first.data(), first.size() }, iovec { second.data(), second.size() } };
    int written = 0;
    int read = 0;

    ASSERT_TRUE(loop.writev(*writer, out, stream_offset, [&](int r) { written = r; }));
    ASSERT_TRUE(loop.readv(*reader, in, stream_offset, [&](int r) { read = r; }));
    ASSERT_TRUE(run_until(loop, [&] { return written != 0 && read != 0; }));

    EXPECT_EQ(written, 9);
    ASSERT_EQ(read, 9);
    EXPECT_EQ(std::string(first.begin(), first.end()) + std::string(second.begin(), second.end()), "head-tail");
}

TEST(EventLoop, BlockedRead_CancelDeliversEcanceledExactlyOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    Pipe pipe = make_pipe();
    auto reader = loop.register_file(pipe.read_end.get());
    ASSERT_TRUE(reader.has_value());
    std::array<uint8_t, 8> buffer {};
    std::vector<int> results;
    auto id = loop.read(*reader, buffer, stream_offset, [&](int r) { results.push_back(r); });
    ASSERT_TRUE(id.has_value());
    settle(loop); // the read is now parked in the kernel

    ASSERT_TRUE(loop.cancel(*id));
    ASSERT_TRUE(loop.cancel(*id)); // a second request is harmless
    ASSERT_TRUE(run_until(loop, [&] { return !results.empty(); }));
    settle(loop);

    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0], -ECANCELED);
    EXPECT_EQ(loop.pending_operations(), 0u);
    auto again = loop.cancel(*id);
    ASSERT_FALSE(again.has_value());
    EXPECT_NE(again.error().message.find("not pending"), std::string::npos) << again.error().message;
}

TEST(EventLoop, Timeout_FiresWithZeroAfterItsDuration)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    int calls = 0;
    int result = -1;
    auto start = std::chrono::steady_clock::now();

    ASSERT_TRUE(loop.timeout(30ms, [&](int r) {
        result = r;
        ++calls;
    }));
    ASSERT_TRUE(run_until(loop, [&] { return calls > 0; }));
    auto elapsed = std::chrono::steady_clock::now() - start;

    EXPECT_EQ(calls, 1);
    EXPECT_EQ(result, 0);
    EXPECT_GE(elapsed, 30ms);
}

TEST(EventLoop, CancelledTimeout_DeliversEcanceledOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    std::vector<int> results;
    auto id = loop.timeout(10s, [&](int r) { results.push_back(r); });
    ASSERT_TRUE(id.has_value());

    ASSERT_TRUE(loop.cancel(*id));
    ASSERT_TRUE(run_until(
        loop, [&] { return !results.empty(); }, 2s));
    settle(loop);

    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0], -ECANCELED);
}

TEST(EventLoop, StopFromAnotherThread_EndsRun)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    bool watchdog_fired = false;
    // If stop() did not wake the loop, this ends run() instead of hanging the test binary.
    auto watchdog = loop.timeout(10s, [&](int r) {
        if (r == 0) {
            watchdog_fired = true;
            loop.stop();
        }
    });
    ASSERT_TRUE(watchdog.has_value());
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        loop.stop();
    });

    auto ran = loop.run();
    stopper.join();

    ASSERT_TRUE(ran.has_value()) << ran.error().message;
    EXPECT_FALSE(watchdog_fired);
}

TEST(EventLoop, StopBeforeRun_RunReturnsAtOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    loop.stop();

    auto ran = loop.run();

    EXPECT_TRUE(ran.has_value());
}

TEST(EventLoop, RunOnceWithTimeoutAndNothingPending_ReturnsZeroWithoutBusyWaiting)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    auto start = std::chrono::steady_clock::now();

    auto processed = loop.run_once(40ms);

    ASSERT_TRUE(processed.has_value()) << processed.error().message;
    EXPECT_EQ(*processed, 0u);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
}

TEST(EventLoop, RunOnceFromACompletion_IsRefused)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    std::optional<Result<size_t>> nested;
    ASSERT_TRUE(loop.timeout(0ns, [&](int) { nested.emplace(loop.run_once(0ms)); }));

    ASSERT_TRUE(run_until(loop, [&] { return nested.has_value(); }));

    ASSERT_FALSE(nested->has_value());
    EXPECT_NE(nested->error().message.find("completion"), std::string::npos);
}

TEST(EventLoop, MultishotPollEndedByFullCompletionQueue_KeepsDeliveringEvents)
{
    // A two-entry completion queue filled by two other polls makes the kernel end the multishot
    // poll instead of posting its next event; the loop must re-arm it without the caller noticing.
    EventLoopConfig config = all_opcodes_config();
    config.queue_depth = 1;
    HUSK_CREATE_LOOP_OR_SKIP(loop, config);
    auto watched = EventFd::create();
    auto filler_a = EventFd::create();
    auto filler_b = EventFd::create();
    ASSERT_TRUE(watched.has_value() && filler_a.has_value() && filler_b.has_value());
    auto watched_file = loop.register_file(watched->fd());
    auto file_a = loop.register_file(filler_a->fd());
    auto file_b = loop.register_file(filler_b->fd());
    ASSERT_TRUE(watched_file.has_value() && file_a.has_value() && file_b.has_value());
    int events = 0;
    int fillers = 0;
    ASSERT_TRUE(loop.poll(*watched_file, POLLIN, Multishot::Yes, [&](int r) {
        if (r >= 0)
            ++events;
        (void)watched->consume();
    }));
    ASSERT_TRUE(loop.poll(*file_a, POLLIN, Multishot::No, [&](int) { ++fillers; }));
    ASSERT_TRUE(loop.poll(*file_b, POLLIN, Multishot::No, [&](int) { ++fillers; }));
    settle(loop); // all three polls armed in the kernel

    ASSERT_TRUE(filler_a->signal());
    ASSERT_TRUE(filler_b->signal());
    ASSERT_TRUE(watched->signal()); // the completion queue is full now
    ASSERT_TRUE(run_until(loop, [&] { return events == 1 && fillers == 2; }));
    ASSERT_TRUE(watched->signal());
    ASSERT_TRUE(run_until(loop, [&] { return events == 2; }));

    EXPECT_EQ(loop.pending_operations(), 1u);
}

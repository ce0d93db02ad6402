// Helpers shared by the EventLoop tests: creating a loop (skipping loudly where the host refuses
// io_uring), running it until a condition holds with a deadline so a bug fails instead of
// hanging, and pipes.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/io/event_loop.hpp"

#include <chrono>
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <span>
#include <string>
#include <unistd.h>

namespace husk::testing_io {

inline EventLoopConfig all_opcodes_config(uint32_t fixed_file_count = 8)
{
    EventLoopConfig config;
    config.opcodes = { IoOpcode::Poll, IoOpcode::Read, IoOpcode::Write, IoOpcode::ReadV, IoOpcode::WriteV,
        IoOpcode::Recv, IoOpcode::Send, IoOpcode::Accept, IoOpcode::Timeout, IoOpcode::Cancel };
    config.fixed_file_count = fixed_file_count;
    config.queue_depth = 32;
    return config;
}

inline bool io_uring_refused(Error const& error)
{
    return error.message.find("io_uring is unavailable") != std::string::npos;
}

// Declares `EventLoop& name`; skips the test with the host's reason when io_uring is refused.
#define HUSK_CREATE_LOOP_OR_SKIP(name, config)                                                                         \
    auto name##_created = ::husk::EventLoop::create(config);                                                           \
    if (!name##_created.has_value() && ::husk::testing_io::io_uring_refused(name##_created.error()))                   \
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring, EventLoop is NOT tested here: "                         \
                     << name##_created.error().message;                                                                \
    ASSERT_TRUE(name##_created.has_value()) << name##_created.error().message;                                         \
    ::husk::EventLoop& name = *name##_created

// Runs the loop until done() or the deadline; false when the deadline passed.
inline bool run_until(
    EventLoop& loop, std::function<bool()> const& done, std::chrono::milliseconds limit = std::chrono::seconds(5))
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        auto processed = loop.run_once(std::chrono::milliseconds(20));
        EXPECT_TRUE(processed.has_value()) << processed.error().message;
        if (!processed.has_value())
            return false;
    }
    return true;
}

// Gives the kernel a moment and processes whatever arrives, to catch completions that must not.
inline void settle(EventLoop& loop)
{
    for (int round = 0; round < 3; ++round) {
        auto processed = loop.run_once(std::chrono::milliseconds(10));
        EXPECT_TRUE(processed.has_value()) << processed.error().message;
    }
}

struct Pipe {
    Fd read_end;
    Fd write_end;
};

inline Pipe make_pipe()
{
    int fds[2] = { -1, -1 };
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0) << "pipe2";
    return Pipe { Fd(fds[0]), Fd(fds[1]) };
}

inline std::span<uint8_t const> bytes_of(std::string const& text)
{
    return { reinterpret_cast<uint8_t const*>(text.data()), text.size() };
}

} // namespace husk::testing_io

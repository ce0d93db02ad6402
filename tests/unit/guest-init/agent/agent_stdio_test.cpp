// AgentServer job stdio over a socketpair: binary stdin round trips, large output intact and in
// order, the output cap, and backpressure when the host does not read.
#include "tests/unit/guest-init/agent/agent_test_client.hpp"

#include <fstream>
#include <random>

namespace husk::agent::testing {
namespace {

    std::vector<uint8_t> random_bytes(size_t size, uint32_t seed)
    {
        std::mt19937 generator(seed);
        std::vector<uint8_t> bytes(size);
        for (auto& byte : bytes)
            byte = static_cast<uint8_t>(generator());
        return bytes;
    }

    // FNV-1a, to compare large buffers with a readable failure message.
    uint64_t fingerprint(void const* data, size_t size)
    {
        uint64_t hash = 0xcbf29ce484222325;
        for (size_t i = 0; i < size; ++i) {
            hash ^= static_cast<uint8_t const*>(data)[i];
            hash *= 0x100000001b3;
        }
        return hash;
    }

    using AgentStdio = AgentServerTest;

    TEST_F(AgentStdio, BinaryStdin_RoundTripsThroughCat)
    {
        auto& client = connect();
        start();
        auto data = random_bytes(1536 * 1024, 1); // over the stdin backlog limit: backpressure
        auto exec = exec_of({ "cat" });
        exec.stdin_open = true;

        client.send(1, exec);
        for (size_t at = 0; at < data.size(); at += 100'000) {
            auto end = std::min(data.size(), at + 100'000);
            client.send(1, Stdin { std::vector<uint8_t>(data.begin() + at, data.begin() + end) });
        }
        client.send(1, StdinClose {});
        auto result = collect_exec(client, 1);

        ASSERT_EQ(result.out.size(), data.size());
        EXPECT_EQ(fingerprint(result.out.data(), result.out.size()), fingerprint(data.data(), data.size()));
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->value, 0u);
    }

    TEST_F(AgentStdio, StdinWithoutStdinOpen_IsRejected)
    {
        auto& client = connect();
        start();

        client.send(1, shell("sleep 0.3; cat"));
        client.send(1, Stdin { { 'x' } });
        auto reply = client.receive(1);
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(reply);
        auto* error = std::get_if<ErrorReply>(&reply->message);
        ASSERT_NE(error, nullptr);
        EXPECT_EQ(error->code, ErrorCode::InvalidArgument);
        EXPECT_EQ(result.out, ""); // stdin was /dev/null
        ASSERT_TRUE(result.exited);
    }

    TEST_F(AgentStdio, TenMebibytesOfStdout_ArriveIntactInChunks)
    {
        auto data = random_bytes(10 * 1024 * 1024, 2);
        {
            std::ofstream file(temp / "big", std::ios::binary);
            file.write(reinterpret_cast<char const*>(data.data()), static_cast<std::streamsize>(data.size()));
        }
        auto& client = connect();
        start();

        client.send(1, exec_of({ "cat", temp / "big" }));
        auto result = collect_exec(client, 1, 15s);

        ASSERT_EQ(result.out.size(), data.size());
        EXPECT_EQ(fingerprint(result.out.data(), result.out.size()), fingerprint(data.data(), data.size()));
        EXPECT_GT(result.output_frames, 1u);
        ASSERT_TRUE(result.exited);
        EXPECT_FALSE(result.exited->stdout_truncated);
    }

    TEST_F(AgentStdio, OutputBeyondTheCap_IsDroppedAndFlagged)
    {
        auto& client = connect();
        start();

        auto exec = shell("head -c 1000000 /dev/zero; echo tail >&2");
        exec.output_limit_bytes = 1000;
        client.send(1, exec);
        auto result = collect_exec(client, 1);

        EXPECT_EQ(result.out, std::string(1000, '\0'));
        EXPECT_EQ(result.err, "tail\n"); // the cap is per stream
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->value, 0u); // drained: the job never blocked on its pipe
        EXPECT_TRUE(result.exited->stdout_truncated);
        EXPECT_FALSE(result.exited->stderr_truncated);
    }

    TEST_F(AgentStdio, SlowReader_BlocksOnlyItsOwnJob)
    {
        auto& slow = connect();
        auto& fast = connect();
        start();
        constexpr size_t produced = 24 * 1024 * 1024;

        // Unread, this job fills the socket, the 4 MiB queue and its pipe, then blocks in write();
        // the marker file shows whether it got past all of its output.
        slow.send(1, shell("head -c " + std::to_string(produced) + " /dev/zero; touch " + temp / "finished"));
        std::this_thread::sleep_for(300ms);
        for (uint32_t id = 1; id <= 3; ++id) {
            fast.send(id, exec_of({ "echo", "fast" }));
            EXPECT_EQ(collect_exec(fast, id, 3s).out, "fast\n");
        }
        fast.send(0, Ping { 42 });
        auto pong = fast.receive(0, 3s);
        bool finished_while_unread = std::filesystem::exists(temp / "finished");
        auto result = collect_exec(slow, 1, 15s);

        ASSERT_TRUE(pong);
        EXPECT_EQ(std::get<Pong>(pong->message).nonce, 42u);
        EXPECT_FALSE(finished_while_unread);
        EXPECT_EQ(result.out.size(), produced);
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->value, 0u);
        EXPECT_TRUE(std::filesystem::exists(temp / "finished"));
    }

} // namespace
} // namespace husk::agent::testing

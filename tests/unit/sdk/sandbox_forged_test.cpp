// A Sandbox attached to a scripted, hostile agent: forged job replies end in clear errors or
// bounded results, never a crash or a hang.
#include "tests/unit/sdk/sandbox_test_support.hpp"

namespace husk::sdk_testing {
namespace {

    using namespace std::chrono_literals;

    // Greets, then answers every job request with `forge(id)`.
    Result<Sandbox> hostile(std::optional<FakeAgent>& agent, std::function<std::vector<uint8_t>(uint32_t)> forge)
    {
        SocketPair pair;
        agent.emplace(std::move(pair.agent), [forge](Frame const& frame) {
            if (frame.correlation_id == 0)
                return greet_reply(frame);
            return forge(frame.correlation_id);
        });
        return detail::SandboxAccess::attach(std::move(pair.host), {});
    }

    TEST(SandboxForged, StatReplyForAJob_IsAnErrorForThatJobOnly)
    {
        std::optional<FakeAgent> agent;
        auto sandbox = hostile(agent, [](uint32_t id) { return encode_message(id, StatReply {}); });
        ASSERT_TRUE(sandbox) << sandbox.error().message;

        auto result = sandbox->run({ "true" });
        auto ping = sandbox->ping();

        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().kind, ErrorKind::AgentDisconnected);
        EXPECT_NE(result.error().message.find("StatReply"), std::string::npos);
        EXPECT_TRUE(ping);
    }

    TEST(SandboxForged, FloodOfOutput_IsCappedAtTheHostLimit)
    {
        std::optional<FakeAgent> agent;
        auto sandbox = hostile(agent, [](uint32_t id) {
            std::vector<uint8_t> bytes;
            for (int i = 0; i < 20; ++i)
                bytes = concat(std::move(bytes),
                    encode_message(id, Output { OutputStream::Stdout, std::vector<uint8_t>(4096, 'a') }));
            // Exited claims nothing was truncated: the host knows better.
            return concat(std::move(bytes), encode_message(id, Exited { ExitKind::Code, 0, false, false, 5 }));
        });
        ASSERT_TRUE(sandbox);
        RunOptions options;
        options.output_limit_bytes = 10'000;

        auto result = sandbox->run({ "true" }, options);

        ASSERT_TRUE(result) << result.error().message;
        EXPECT_EQ(result->stdout_data.size(), 10'000u);
        EXPECT_TRUE(result->stdout_truncated);
    }

    TEST(SandboxForged, ErrorReplyToExec_IsAGuestError)
    {
        std::optional<FakeAgent> agent;
        auto sandbox = hostile(agent, [](uint32_t id) {
            return encode_message(id, ErrorReply { ErrorCode::NoSpace, "too many jobs" });
        });
        ASSERT_TRUE(sandbox);

        auto result = sandbox->run({ "true" });

        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().kind, ErrorKind::Guest);
        EXPECT_NE(result.error().message.find("too many jobs"), std::string::npos);
    }

    TEST(SandboxForged, AgentVanishesMidJob_FailsWithinASecond)
    {
        std::optional<FakeAgent> agent;
        auto sandbox = hostile(agent, [](uint32_t) { return std::vector<uint8_t> {}; });
        ASSERT_TRUE(sandbox);
        auto process = sandbox->start({ "sleep", "100" });
        ASSERT_TRUE(process);
        auto started = std::chrono::steady_clock::now();

        agent->hang_up();
        auto result = process->wait(5s);

        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().kind, ErrorKind::AgentDisconnected);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    }

    TEST(SandboxForged, WrongStatKind_MapsToOther)
    {
        std::optional<FakeAgent> agent;
        auto sandbox = hostile(agent, [](uint32_t id) {
            return encode_message(id, StatReply { FileKind::Other, 1, 0, 0 });
        });
        ASSERT_TRUE(sandbox);

        auto info = sandbox->stat("/x");

        ASSERT_TRUE(info);
        EXPECT_EQ(info->type, FileType::Other);
    }

} // namespace
} // namespace husk::sdk_testing

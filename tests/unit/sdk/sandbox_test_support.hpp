// A Sandbox attached to the real husk-init agent (guest-init/agent) served on a thread over a
// socketpair: the SDK end to end, minus the VM. Jobs run as host processes of the test.
#pragma once

#include "tests/unit/testing/scratch_dir.hpp"
#include "guest-init/agent/agent_server.hpp"
#include "husk/sandbox.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "tests/unit/sdk/fake_agent.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <thread>

namespace husk::sdk_testing {

class RealAgentSandbox : public ::testing::Test {
protected:
    void SetUp() override
    {
        agent::AgentOptions options;
        options.drain_grace = std::chrono::milliseconds(300);
        auto server = agent::AgentServer::create(options);
        ASSERT_TRUE(server) << server.error().message;
        m_server = std::move(*server);
        SocketPair pair;
        ASSERT_TRUE(m_server->add_connection(std::move(pair.agent)));
        m_thread = std::thread([this] { (void)m_server->run(); });
        auto attached = detail::SandboxAccess::attach(std::move(pair.host), sandbox_options());
        ASSERT_TRUE(attached) << attached.error().message;
        sandbox.emplace(std::move(*attached));
    }

    void TearDown() override
    {
        sandbox.reset();
        if (m_thread.joinable()) {
            m_server->stop();
            m_thread.join();
        }
        m_server.reset();
    }

    virtual SandboxOptions sandbox_options() { return {}; }

    RunResult run(std::vector<std::string> argv, RunOptions const& options = {})
    {
        auto result = sandbox->run(std::move(argv), options);
        EXPECT_TRUE(result) << result.error().message;
        return result ? *result : RunResult {};
    }

    std::optional<Sandbox> sandbox;
    test_support::ScratchDir scratch_dir { "husk-sdk-test" };
    std::string const scratch { scratch_dir.path() }; // a host directory the "guest" jobs and file operations use

private:
    std::unique_ptr<agent::AgentServer> m_server;
    std::thread m_thread;
};

} // namespace husk::sdk_testing

// Agent mode: the vsock listener and the server set up as PID 1 runs it.
#include "guest-init/agent/agent_mode.hpp"

#include "guest-init/agent/agent_server.hpp"
#include "guest-init/protocol/agent_port.hpp"

#include <linux/vm_sockets.h>
#include <sys/socket.h>

namespace husk::agent {

namespace {

    constexpr int listen_backlog = 64;

} // namespace

Result<Fd> listen_vsock(uint32_t port)
{
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail_errno("socket(AF_VSOCK)");
    Fd listener(fd);
    sockaddr_vm address {};
    address.svm_family = AF_VSOCK;
    address.svm_cid = VMADDR_CID_ANY;
    address.svm_port = port;
    if (bind(listener.get(), reinterpret_cast<sockaddr const*>(&address), sizeof address) < 0)
        return fail_errno("bind vsock port " + std::to_string(port));
    if (listen(listener.get(), listen_backlog) < 0)
        return fail_errno("listen on vsock port " + std::to_string(port));
    return listener;
}

Result<void> serve_agent(std::function<void()> const& on_listening)
{
    AgentOptions options;
    options.reaping = ChildReaping::AllChildren;
    auto server = TRY_CONTEXT(AgentServer::create(options), "agent");
    TRY_CONTEXT(server->add_listener(TRY_CONTEXT(listen_vsock(protocol::agent_port), "agent")), "agent");
    // The listen backlog takes connections from here on, before the loop first runs.
    if (on_listening)
        on_listening();
    TRY_CONTEXT(server->run(), "agent");
    return {};
}

} // namespace husk::agent

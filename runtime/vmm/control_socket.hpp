// ControlSocket: the VMM's control socket (`--control UDS`), served by the main thread between
// its other duties. One client at a time (a second one is told so and closed); each request is a
// line (control_command.hpp) plus, for SNAPSHOT, the descriptors of the files to write, passed
// with SCM_RIGHTS so the VMM never opens a path: it works the same inside the jail and needs no
// open() in the main thread's seccomp filter. Created before the jail, like the vsock socket.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/vmm/control_command.hpp"
#include "runtime/vsock/unix_socket.hpp"

#include <optional>
#include <string>
#include <vector>

namespace husk {

struct ControlRequest {
    Result<ControlCommand> command;
    std::vector<Fd> fds; // what arrived with the line
};

class ControlSocket {
public:
    static Result<ControlSocket> listen(std::string path);
    ControlSocket(ControlSocket&&) = default;
    ControlSocket& operator=(ControlSocket&&) = default;
    // Removes the socket file if it is still ours (outside a jail; inside, the path is gone).
    ~ControlSocket();

    int listener_fd() const { return m_listener.fd.get(); }
    // -1 while no client is connected.
    int client_fd() const { return m_client.get(); }

    // The listener is readable.
    void accept_client();
    // The client is readable: the next complete request, or nothing yet (also when the client
    // left, or broke the protocol and was dropped).
    std::optional<ControlRequest> read_request();
    // One line to the current client (the newline is added). A client that does not take it at
    // once is dropped: the main thread must never block on it.
    void reply(std::string const& line);

private:
    ControlSocket(std::string path, UnixListener listener)
        : m_path(std::move(path))
        , m_listener(std::move(listener))
    {
    }
    void drop_client();

    std::string m_path;
    UnixListener m_listener;
    Fd m_client;
    std::string m_buffer;
    std::vector<Fd> m_received_fds;
};

} // namespace husk

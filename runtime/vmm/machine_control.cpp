// Machine: the control socket's commands on the main thread, pausing and resuming the VM.
#include "runtime/base/log.hpp"
#include "runtime/vmm/machine.hpp"
#include "runtime/vmm/vcpu_runner.hpp"

namespace husk {

namespace {
    // A vCPU leaves KVM_RUN within microseconds of a kick; the device thread may wait for block
    // requests to complete, which a slow disk can stretch.
    constexpr auto vcpu_pause_limit = std::chrono::seconds(2);
    constexpr auto device_pause_limit = std::chrono::seconds(5);
} // namespace

Result<void> Machine::pause(std::vector<std::unique_ptr<VcpuRunner>>& runners)
{
    if (m_paused)
        return {};
    for (auto& runner : runners)
        runner->request_pause();
    auto deadline = std::chrono::steady_clock::now() + vcpu_pause_limit;
    for (size_t index = 0; index < runners.size(); ++index) {
        if (!runners[index]->wait_paused(deadline)) {
            resume(runners);
            return fail("vCPU " + std::to_string(index) + " did not pause in time");
        }
    }
    if (m_stop.requested()) {
        resume(runners);
        return fail("the VM is stopping");
    }
    if (auto paused = m_virtio->pause(std::chrono::steady_clock::now() + device_pause_limit); !paused) {
        resume(runners);
        return paused;
    }
    m_paused = true;
    log_info("VM paused");
    return {};
}

void Machine::resume(std::vector<std::unique_ptr<VcpuRunner>>& runners)
{
    m_virtio->resume();
    for (auto& runner : runners)
        runner->resume();
    if (m_paused && !m_stop.requested())
        log_info("VM resumed");
    m_paused = false;
}

void Machine::serve_control(std::vector<std::unique_ptr<VcpuRunner>>& runners)
{
    while (auto request = m_control->read_request())
        handle_control_request(std::move(*request), runners);
}

void Machine::handle_control_request(ControlRequest request, std::vector<std::unique_ptr<VcpuRunner>>& runners)
{
    if (!request.command) {
        m_control->reply("ERR " + request.command.error().message);
        return;
    }
    auto command = *request.command;
    if (request.fds.size() != control_command_fds(command)) {
        m_control->reply("ERR this command takes " + std::to_string(control_command_fds(command))
            + " file descriptors, " + std::to_string(request.fds.size()) + " came with it");
        return;
    }
    switch (command) {
    case ControlCommand::Pause: {
        auto paused = pause(runners);
        m_control->reply(paused ? "OK" : "ERR " + paused.error().message);
        return;
    }
    case ControlCommand::Resume:
        resume(runners);
        m_control->reply("OK");
        return;
    case ControlCommand::Snapshot: {
        if (auto paused = pause(runners); !paused) {
            m_control->reply("ERR " + paused.error().message);
            return;
        }
        auto written = write_snapshot(request.fds[0].get(), request.fds[1].get());
        if (!written)
            log_warn("snapshot failed: " + written.error().message);
        m_control->reply(written ? "OK " + *written : "ERR " + written.error().message);
        return;
    }
    }
}

} // namespace husk

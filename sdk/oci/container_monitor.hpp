// The per-container process `create` leaves behind (the one the pid file names): it owns the VM
// through husk::Sandbox, reports to `create` whether the container could be created, waits for
// `start` on the start fifo, runs process.args with the container's stdio, forwards the signals
// it receives to the guest process, serves `exec` on its control socket and finally exits as the
// guest process did. `kill` and `delete` talk to it with sigqueue() values (below).
#pragma once

#include "sdk/oci/container_nic.hpp"
#include "sdk/oci/container_store.hpp"
#include "sdk/oci/oci_config.hpp"

#include <optional>
#include <string>

namespace husk::oci {

inline constexpr char const* start_fifo_name = "start.fifo";
inline constexpr char const* control_socket_name = "control.sock";
/// Bits of the sigqueue() value `kill` and `delete` send. signal_flag_all: to every process of the
/// container (kill --all). signal_flag_kill: SIGKILL, carried by a catchable SIGTERM so that the
/// monitor kills the guest process and then stops the VM cleanly (jail directory and cgroup
/// removed) before dying of SIGKILL itself; a real SIGKILL to the monitor would leave them.
inline constexpr int signal_flag_all = 1;
inline constexpr int signal_flag_kill = 2;

struct MonitorLaunch {
    ContainerStore store;
    ContainerRecord record; ///< id, bundle, rootfs, created, annotations filled in
    OciConfig config;
    std::string console_socket; ///< with process.terminal
    int report_fd { -1 }; ///< written "ok\n" or "error <message>" once, then closed
    std::optional<ContainerNic> nic; ///< the NIC `create` built in the engine's namespace
};

/// Runs in the forked child of `create`; never returns.
[[noreturn]] void run_container_monitor(MonitorLaunch launch);

} // namespace husk::oci

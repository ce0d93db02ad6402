// What a Sandbox owns, in destruction order: the agent connection (shared with live Process
// handles, which fail cleanly once it is closed), the supervised VMM, the jail's id and leftovers
// (when jailed), and the temporary directory.
// SandboxAccess builds Sandboxes from parts, also for the unit tests, which attach to an agent
// served over a socketpair instead of booting a VM.
#pragma once

#include "husk/sandbox.hpp"
#include "runtime/base/fd.hpp"
#include "sdk/src/agent_client.hpp"
#include "sdk/src/passt_network.hpp"
#include "sdk/src/sandbox_jail.hpp"
#include "sdk/src/temp_dir.hpp"
#include "sdk/src/vmm_child.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace husk::detail {

// How long the agent gets to acknowledge Shutdown, and the VMM to exit after it, on teardown.
inline constexpr std::chrono::milliseconds shutdown_ack_timeout { 1000 };
inline constexpr std::chrono::milliseconds vmm_exit_timeout { 2000 };
// How long a broken connection waits for the VMM's exit to explain it.
inline constexpr std::chrono::milliseconds death_grace { 300 };

struct SandboxState {
    SandboxOptions options;
    std::optional<TempDir> temp_dir;
    std::optional<SandboxJail> jail; // reset (cleaned up, id released) once the VMM has exited
    uint32_t jail_uid { 0 }; // 0: not jailed
    std::optional<VmmChild> vmm;
    std::optional<PasstNetwork> passt; // the network of an unjailed sandbox; stopped after the VMM
    std::string vmm_path; // for `husk-vmm --reap-networks` after a networked launcher was killed
    bool networked { false };
    std::string log_path;
    std::string report_path;
    std::shared_ptr<AgentClient> client;
    bool stopped { false };
    // Nothing the guest wrote needs to reach the host when the VM ends (may_end_without_guest()),
    // so stop() ends it from the host instead of having the guest power itself off.
    bool may_end_without_guest { false };

    ~SandboxState() { (void)stop(); }
    // Ends the VM (end_vm() or power_off()), waits for the VMM or kills it, cleans up its jail,
    // removes the directory. Idempotent.
    Result<void> stop();
    // The guest's own end: Shutdown, the Ack, close; the guest syncs, powers off and husk-vmm
    // exits, or is killed if it does not within vmm_exit_timeout (`killed`).
    Result<void> power_off(bool& killed);
    // The host's end: close, SIGTERM to husk-vmm (which stops the VM at once and reports).
    Result<void> end_vm();
    // Runs `husk-vmm --reap-networks` and waits for it (bounded).
    void reap_networks() const;
    // True when the VMM exited 0 (or is not our child) and its report says the guest powered
    // itself off.
    bool is_clean_guest_shutdown(ChildExit exit) const;
    // The error for a VMM that has exited: its exit, stop reason and last log lines.
    Error vm_died_error(ChildExit exit, char const* when) const;
    // The error a broken connection turns into (VmDied when the VMM has exited).
    Error explain(Error reason) const;
};

struct SandboxAccess {
    static Sandbox make(std::unique_ptr<SandboxState> state) { return Sandbox(std::move(state)); }
    static SandboxState& state(Sandbox& sandbox) { return *sandbox.m_state; }
    // A sandbox over an already-connected agent stream (no VMM): Hello, then ready.
    static Result<Sandbox> attach(Fd stream, SandboxOptions options);
};

// True when no guest write has to reach the host when the VM ends: no writable share (a file
// the guest mapped and wrote sits in its page cache until written back; its own sync at
// power-off does that) and no directory root written in place. A read-only root disk, the
// overlay in guest RAM and the guest's tmpfs end with the VM.
bool may_end_without_guest(SandboxOptions const& options);

// BadConfig, with one sentence, for options create() cannot honour.
Result<void> check_options(SandboxOptions const& options);
// True when the options ask for a network device (anything but "none").
bool has_network(SandboxOptions const& options);
// husk-vmm's --net, --publish and --net-dns for a jailed sandbox's network (the launcher builds it).
void append_policy_network_arguments(SandboxOptions const& options, std::vector<std::string>& argv);
// Connects through the VMM's socket, retrying while the VMM or the agent is still starting.
Result<Fd> wait_for_agent(
    SandboxState const& state, std::string const& socket_path, std::chrono::steady_clock::time_point deadline);
// Hello: the agent speaks our protocol and answers; with `refresh` (a restored guest) the
// Refresh goes along in the same round trip, its clock reading (if set) taken as it is sent, and
// must be acknowledged too.
Result<void> greet(
    AgentClient& client, std::chrono::steady_clock::time_point deadline, protocol::Refresh const* refresh = nullptr);
// Makes `stream` the state's agent connection (watching its VMM) and greets the agent; a
// timeout there means the guest was not ready.
Result<void> open_agent(SandboxState& state, Fd stream, std::chrono::steady_clock::time_point deadline,
    protocol::Refresh const* refresh = nullptr);

// The part of husk-vmm's command line that differs between a boot and a restore, given the new
// sandbox's state (its options and directory; it may start what the VMM needs, such as passt)
// and the path of its vsock socket.
using VmmArguments
    = std::function<Result<std::vector<std::string>>(SandboxState& state, std::string const& socket_path)>;
// Starts a new sandbox's VM (create and restore): the sandbox directory, the jail when `jailed`,
// husk-vmm with `vmm_arguments` then the control socket and the jail's arguments, and the agent
// connection once the guest answers (and acknowledged `refresh`, if given), all before `deadline`.
Result<std::unique_ptr<SandboxState>> start_sandbox(SandboxOptions options, bool jailed,
    VmmArguments const& vmm_arguments, std::chrono::steady_clock::time_point deadline,
    protocol::Refresh const* refresh = nullptr);

// The names of a sandbox directory's entries.
inline constexpr char const* socket_file = "vsock.sock";
inline constexpr char const* log_file = "vmm.log";
inline constexpr char const* report_file = "report.json";
inline constexpr char const* pid_file = "vmm.pid"; // written when the sandbox is detached
inline constexpr char const* control_file = "control.sock"; // husk-vmm --control: pause, snapshot
inline constexpr char const* net_guest_file = "guest-network"; // husk-vmm --net-guest-file: a restore's

// The agent's Exec for a job, SandboxOptions defaults merged in.
protocol::Exec make_exec(SandboxOptions const& sandbox, std::vector<std::string> argv, JobOptions const& job,
    bool stdin_open, uint64_t output_limit_bytes);

} // namespace husk::detail

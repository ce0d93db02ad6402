// MachineConfig: everything needed to assemble and boot one VM, already validated by the
// command line layer (sizes, counts, the complete kernel command line).
#pragma once

#include "runtime/kvm/kvm_flavour.hpp"
#include "runtime/memory/huge_pages.hpp"
#include "runtime/share/share_root.hpp"
#include "virtio/net/rate_limiter.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace husk {

struct SerialOutput {
    enum class Kind { None, Stdout, Stderr, File };
    Kind kind { Kind::None };
    std::string path; // Kind::File only; created or truncated
};

// Which threads install their seccomp filter (runtime/jail/). AllThreads is husk-vmm's mode.
// WorkerThreads leaves the thread that calls Machine::run unfiltered: for tests that run a
// Machine inside a test process, which must go on working afterwards.
enum class SeccompMode { Off, WorkerThreads, AllThreads };

inline constexpr uint64_t default_memory_bytes = 128ull << 20;
inline constexpr uint64_t default_guest_cid = 3; // the first CID a guest may have
// Guest RAM on transparent huge pages unless told otherwise: docs/benchmarks.md (bench/boot)
// has the boot time it saves and the memory it costs.
inline constexpr HugePages default_memory_huge_pages = HugePages::On;

// The virtio-vsock device and its hybrid-vsock unix socket (Firecracker convention).
struct VsockConfig {
    std::string uds_path;
    uint64_t guest_cid { default_guest_cid }; // checked with vsock::is_valid_guest_cid
    // Where a guest connection to host port P goes: `<base>_<P>`. Unset: uds_path. The jail sets
    // it to uds_path as seen from inside its root, or to "" (refuse them) when uds_path is outside.
    std::optional<std::string> guest_connect_base;
    // A cold boot holds host connects until husk-init reports its agent listening (bounded:
    // runtime/vmm/agent_connect_hold.hpp) instead of passing them to a guest that refuses them.
    // Off by default: a guest that is not husk-init would wait for the bound before its first
    // connect. A restore holds connects until the transport reset either way.
    bool hold_until_agent_listens { false };
};

// A virtio-blk disk on a raw image file.
struct DiskConfig {
    std::string path;
    bool read_only { false };
};

// The virtio-net device on a tap (runtime/net/), opened in the network namespace the VMM is in
// when it builds the machine (the sandbox's, for a jailed VMM), before any jail pivot; or on a
// unix stream of length-prefixed frames (passt's socket; runtime/net/stream_net_backend.hpp).
struct NetConfig {
    enum class Backend { Tap, Stream };
    Backend backend { Backend::Tap };
    std::string tap_name; // created if absent, attached to if it is a persistent tap we may use
    // Backend::Stream: an inherited connected socket (the VMM owns it from then on), or else
    // the path of a listening one to connect to.
    std::optional<int> stream_fd;
    std::string stream_path;
    std::optional<std::array<uint8_t, 6>> mac; // unset: a random locally administered address
    RateLimiterConfig rx_limit; // host → guest
    RateLimiterConfig tx_limit; // guest → host
};

// A host directory served over virtio-9p (runtime/share/), mounted in the guest by `tag`.
struct ShareConfig {
    std::string host_path;
    std::string tag;
    bool read_only { false };
    // Who serves it (the jail's ids when jailed): the start-up permission check uses them.
    uint32_t serve_uid { 0 };
    uint32_t serve_gid { 0 };
    // Whose uids/gids new files get (runtime/share/share_root.hpp). Guest needs the jail and the
    // share capabilities on the event thread (runtime/jail/capabilities.hpp).
    ShareOwnership ownership { ShareOwnership::ServerUser };
    // Jailed: where the jail bind-mounted the directory and its own /proc/self/fd, as seen once the
    // VMM has pivoted; VirtioDevices::start() reopens the share there, so ".." cannot leave the
    // jail root. Unset: the descriptors opened at the host path are served.
    struct InJail {
        std::string directory; // "/shares/TAG"
        std::string proc_fds; // "/proc/self/fd"
    };
    std::optional<InJail> in_jail;
};

struct MachineConfig {
    std::string kernel_path;
    std::optional<std::string> initrd_path;
    std::string cmdline; // the complete kernel command line
    uint64_t memory_bytes { default_memory_bytes };
    HugePages memory_huge_pages { default_memory_huge_pages };
    unsigned vcpus { 1 };
    SerialOutput serial;
    std::optional<VsockConfig> vsock;
    std::vector<DiskConfig> disks; // /dev/vda, /dev/vdb, ... in this order
    std::optional<NetConfig> net; // eth0 in the guest; none: no network device at all
    std::vector<ShareConfig> shares; // virtio-9p devices, after the disks
    std::optional<std::chrono::milliseconds> timeout;
    bool debug { false };
    // Stop as GuestShutdown when husk-init writes its boot marker (boot-time benchmarks).
    bool stop_at_boot_marker { false };
    // PVM hosts are refused unless HUSK_ALLOW_PVM=1; tests of tiny guests pass Allow.
    PvmPolicy pvm_policy { PvmPolicy::FromEnvironment };
    SeccompMode seccomp { SeccompMode::AllThreads };
    // --control: the control socket (pause, resume, snapshot; runtime/vmm/control_command.hpp).
    std::optional<std::string> control_path;
    // Origin of the setup_us timing; main() sets it as early as it can.
    std::chrono::steady_clock::time_point process_start { std::chrono::steady_clock::now() };
};

} // namespace husk

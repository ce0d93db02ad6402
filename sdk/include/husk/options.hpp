// Options of a sandbox and of the jobs run in it. Plain structs with working defaults: a
// default-constructed SandboxOptions boots the built or installed kernel and initramfs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace husk {

/// Whether husk-vmm runs jailed: as a launcher that puts the VMM in its own cgroup and PID, mount,
/// IPC, UTS and network namespaces, pivots it into an empty per-VM root and drops it to a uid/gid
/// of its own (sdk/src/jail_ids.hpp). Seccomp is on in every mode. The jail needs root, like
/// Firecracker's jailer.
enum class JailMode {
    /// Jailed when this process is root (effective uid 0); otherwise unjailed, seccomp still on.
    Auto,
    /// Jailed, or Sandbox::create() fails with BadConfig saying why it cannot jail.
    Required,
    /// Never jailed (seccomp still on). For debugging only: a guest that escaped into husk-vmm
    /// would run with this process's uid and see its files, processes and network.
    Off,
};

/// A host TCP port forwarded to a guest port (docker's `-p HOST_PORT:GUEST_PORT`).
struct PortMapping {
    uint16_t host_port { 0 }; ///< 1..65535, each at most once per sandbox
    uint16_t guest_port { 0 }; ///< 1..65535
    bool operator==(PortMapping const&) const = default;
};

/// Who owns, on the host, what the guest creates in a shared directory (Mount, rootfs_dir).
enum class ShareOwners {
    /// The user husk-vmm runs as (the sandbox's jail uid when jailed): guest uid 0 is not host
    /// root, the guest's chown does nothing, set-user-ID and set-group-ID bits are dropped.
    Vmm,
    /// The guest's own uids and gids, as runc gives a container: guest root creates root-owned
    /// files and may change any file in the directory, chown and set-ID bits are applied. Needs
    /// the jail (create() fails with BadConfig otherwise): husk-vmm keeps CAP_CHOWN,
    /// CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_FSETID for the thread that serves shares, confined to
    /// the directory (docs/sharing.md, docs/security.md).
    Guest,
};

/// A host directory shared with the guest: served by husk-vmm itself over virtio-9p and mounted
/// by the guest's init before any job runs (docs/sharing.md). Files the guest creates there
/// belong on the host to the user husk-vmm runs as: the sandbox's jail uid when jailed (a
/// writable directory must then be writable by it), this process's user otherwise; or, with
/// ShareOwners::Guest, to the guest's users.
struct Mount {
    std::string host; ///< absolute path of an existing host directory
    std::string guest; ///< absolute path in the guest, not /, not under /proc, /sys or /dev
    bool read_only { false }; ///< the guest cannot change anything in it
    ShareOwners owners { ShareOwners::Vmm };
};

/// Where the guest's writes to a root filesystem directory (SandboxOptions::rootfs_dir) go.
enum class RootfsWrites {
    /// Into a private overlay in the guest's RAM: the directory is never modified, and any number
    /// of sandboxes can boot on it at once.
    Private,
    /// Into the directory itself, as the user husk-vmm runs as (the sandbox's jail uid when
    /// jailed): the directory must be writable by that user, and only what that user may change
    /// can be changed.
    InPlace,
};

/// A NIC on a tap somebody else prepared in a network namespace of theirs (how husk-oci puts a
/// container's VM on its engine's network, docs/oci.md): husk-vmm joins `netns` and attaches to
/// the persistent tap `tap` there, and the guest's eth0 gets `mac`, `address` and `gateway`.
/// No policy and no NAT of husk's: whoever made the namespace owns its network. Needs the jail
/// (root) and network "none"; the caller removes the tap.
struct TapNetwork {
    std::string netns; ///< absolute: /run/netns/NAME, /proc/PID/ns/net
    std::string tap; ///< a persistent tap in that namespace (1-15 bytes)
    std::string mac; ///< "02:xx:xx:xx:xx:xx": the guest's eth0
    std::string address; ///< IPv4 "ADDR/PREFIX"
    std::string gateway; ///< IPv4 default gateway; empty: none
    bool operator==(TapNetwork const&) const = default;
};

struct SandboxOptions {
    /// husk-vmm, kernel and initramfs. Empty: looked up: the HUSK_VMM and HUSK_ASSETS_DIR
    /// environment variables, then the installation libhusk runs from (<prefix>/bin/husk-vmm,
    /// <prefix>/lib/husk/; /usr/lib/husk/ for the Debian packages), then PATH for husk-vmm.
    std::string vmm_path;
    std::string kernel_path;
    std::string initrd_path;
    /// A root filesystem image instead of the built-in initramfs: a path to an ext4 image, or the
    /// name of one built into the assets (`debian-python` → `<assets>/debian-python.ext4`). It is
    /// attached read-only and the guest works on a private overlay in its RAM, so any number of
    /// sandboxes share one image and none sees another's writes.
    std::string rootfs_path;
    /// A host directory as the root filesystem instead (an unpacked image, e.g. a container's
    /// rootfs): absolute, no comma; not together with rootfs_path. husk-vmm serves it over
    /// virtio-9p like a mount (docs/sharing.md; it counts towards the 8); what happens to the
    /// guest's writes is rootfs_writes'.
    std::string rootfs_dir;
    RootfsWrites rootfs_writes { RootfsWrites::Private };
    /// Whose files the guest's writes to rootfs_dir make (with InPlace; with Private, Guest lets
    /// the guest read files only their owners may read, such as root's). See ShareOwners.
    ShareOwners rootfs_owners { ShareOwners::Vmm };

    /// Host directories to share with the guest, at most 8 (docker's -v HOST:GUEST[:ro]).
    std::vector<Mount> mounts;

    unsigned vcpus { 1 }; ///< 1..32
    uint64_t memory_bytes { 256ull << 20 }; ///< guest RAM, at least 32 MiB

    /// "NAME=value" entries every job gets (a job's own env entries come after and win).
    std::vector<std::string> env;
    /// Default working directory of jobs (absolute); empty: the agent's default, "/".
    std::string workdir;

    /// How long create() waits for the guest agent to answer, boot included.
    std::chrono::milliseconds boot_timeout { std::chrono::seconds(30) };
    /// The VM's whole lifetime: husk-vmm stops it after this long. Empty: no limit.
    std::optional<std::chrono::milliseconds> lifetime;
    /// Free-form tags for the caller's bookkeeping; husk keeps them and does nothing else.
    std::map<std::string, std::string> labels;
    /// How many of husk-vmm's last log lines an error message carries.
    size_t log_lines_in_errors { 12 };
    /// The jail: on by default whenever it can be (see JailMode).
    JailMode jail { JailMode::Auto };

    /// The guest's network, off by default (docs/network-policy.md):
    ///   "none"        no network device at all
    ///   "internet"    public IPv4 addresses only
    ///   "allow=LIST"  only what LIST names: comma-separated CIDR[:PORT] and NAME[:PORT] (a name
    ///                 allows the addresses the sandbox's DNS forwarder resolves for it)
    /// Private, loopback, link-local (cloud metadata), CGNAT, multicast, the host's own and
    /// other sandboxes' addresses are always denied. That policy needs the jail (root). When the
    /// VM is not jailed, "internet" comes from passt (Debian package passt): whatever this
    /// process's user can reach, with no policy, so "allow=LIST" fails create() with BadConfig.
    /// husk-vmm checks LIST; a malformed one fails create() with its message.
    std::string network { "none" };
    /// Host TCP ports that reach the guest; needs a network other than "none".
    std::vector<PortMapping> publish;
    /// Upstream servers (IPv4 addresses) of the sandbox's DNS forwarder; empty: the
    /// non-loopback nameservers of the host's /etc/resolv.conf.
    std::vector<std::string> dns_servers;

    /// The guest's NIC on a prepared tap in another network namespace (see TapNetwork), instead
    /// of `network`.
    std::optional<TapNetwork> tap_network;
};

/// What every job takes, whether run() or start()ed.
struct JobOptions {
    std::vector<std::string> env; ///< "NAME=value", after SandboxOptions::env
    std::string workdir; ///< absolute; empty: SandboxOptions::workdir
    /// The agent kills the job (SIGKILL) after this long; the result says TimedOut.
    std::optional<std::chrono::milliseconds> timeout;
    uint32_t uid { 0 };
    uint32_t gid { 0 };
};

struct RunOptions : JobOptions {
    /// Written to the job's stdin, which is then closed. Empty: stdin is empty.
    std::string stdin_data;
    /// Per stream: output beyond it is dropped and the result says truncated.
    uint64_t output_limit_bytes { 64ull << 20 };
};

/// Raw output chunks as they arrive. Called on the sandbox's reader thread: return quickly and
/// do not call back into the same Process's wait() from it.
using OutputCallback = std::function<void(std::span<uint8_t const> chunk)>;

struct StartOptions : JobOptions {
    /// true: write_stdin()/close_stdin() feed the job. false: its stdin is /dev/null.
    bool stdin_open { true };
    /// When set, output goes to the callback and is not kept in the RunResult.
    OutputCallback on_stdout;
    OutputCallback on_stderr;
    /// Per stream, for output kept in the RunResult (0: no limit when callbacks take it).
    uint64_t output_limit_bytes { 64ull << 20 };
};

} // namespace husk

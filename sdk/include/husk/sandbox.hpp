// Sandbox: one micro-VM with the husk agent, owned by the host application. create() starts
// husk-vmm as a supervised child (it dies with the application), waits for the agent and returns
// a handle; jobs and file operations then go over one agent connection, concurrently from any
// thread. Destroying the Sandbox shuts the VM down and removes everything it created.
//
//   auto sandbox = HUSK_TRY(husk::Sandbox::create({}));   // in a function returning a husk::Result
//   auto result = HUSK_TRY(sandbox.run({ "echo", "hi" }));  // result.stdout_data == "hi\n"
#pragma once

#include "husk/error.hpp"
#include "husk/options.hpp"
#include "husk/process.hpp"
#include "husk/run_result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace husk {

namespace detail {
    struct SandboxState;
    struct SandboxAccess;
}

enum class FileType : uint8_t { Regular, Directory, Symlink, Other };

struct FileInfo {
    FileType type { FileType::Regular };
    uint64_t size { 0 };
    uint32_t mode { 0 }; ///< permission bits
    std::chrono::nanoseconds mtime {}; ///< since the Unix epoch
};

/// What detach() hands back: what connect() needs to take the VM over again.
struct DetachedSandbox {
    std::string directory; ///< the sandbox's private directory: agent socket, VMM log, report
    pid_t vmm_pid { 0 };
};

enum class Parents : uint8_t { Fail, Create }; ///< mkdir: like `mkdir` or `mkdir -p`
enum class Recursive : uint8_t { No, Yes }; ///< remove: like `rm`/`rmdir` or `rm -r`

class Sandbox {
public:
    /// Boots a VM and waits for its agent. Errors: BadConfig, VmmStartFailed, GuestNotReady.
    static Result<Sandbox> create(SandboxOptions options = {});

    /// Takes over a VM that detach() let go, from this process or another one of the same user
    /// (while the detaching process lives); the new Sandbox owns it and stops it when destroyed.
    /// `options` give the job defaults and timeouts (boot_timeout bounds the connection); how the
    /// VM was booted does not change. Errors: BadConfig (not a detached sandbox's directory),
    /// VmDied (its husk-vmm has exited), GuestNotReady (the agent did not answer in time).
    static Result<Sandbox> connect(std::string const& directory, SandboxOptions options = {});

    /// Boots nothing: resumes the snapshot in `directory` (written by snapshot()) in a new VM and
    /// waits for its agent. Guest memory is mapped copy-on-write from the snapshot's memory file,
    /// so any number of sandboxes restored from one snapshot share its untouched pages and never
    /// see each other's writes. Each gets fresh entropy, the host's time and a hostname of its own
    /// before it is handed out. The snapshot decides memory_bytes and vcpus (`options` values are
    /// ignored); rootfs_path must name the image the snapshot was taken with; mounts and
    /// rootfs_dir must be the snapshot's, in the same order and modes, but each may name another
    /// host directory (a copy, so that clones write apart: docs/snapshots.md); `network` is
    /// given if and only if the snapshot had one, and each restored copy gets a network of its
    /// own with this policy (jailed: its own namespace, tap and addresses; without root: its own
    /// passt); tap_network is refused. Errors: BadConfig (not a snapshot, a corrupt one or one
    /// of another husk build, with the reason), VmmStartFailed, GuestNotReady.
    static Result<Sandbox> restore(std::string const& directory, SandboxOptions options = {});

    /// A moved-from (or detached) Sandbox may only be destroyed or assigned to.
    Sandbox(Sandbox&&) noexcept;
    Sandbox& operator=(Sandbox&&) noexcept;
    Sandbox(Sandbox const&) = delete;
    Sandbox& operator=(Sandbox const&) = delete;
    /// Ends the VM (the guest powers off first when it has a writable share to flush; otherwise
    /// the VMM stops it at once), waits briefly for the VMM to exit, kills it otherwise, removes
    /// the sandbox's temporary directory. Jobs still running are killed with the VM.
    ~Sandbox();

    /// Runs argv[0] (PATH lookup in the guest) to completion.
    Result<RunResult> run(std::vector<std::string> argv, RunOptions const& options = {});
    /// Runs `/bin/sh -c script`.
    Result<RunResult> run_shell(std::string script, RunOptions const& options = {});
    /// Starts a job and returns at once; see Process.
    Result<Process> start(std::vector<std::string> argv, StartOptions options = {});

    /// Writes a whole file (created with `mode`, truncated if it exists).
    Result<void> write_file(std::string const& path, std::span<uint8_t const> data, uint32_t mode = 0644);
    Result<void> write_file(std::string const& path, std::string_view data, uint32_t mode = 0644);
    /// Writes a file from a stream: `source` fills the buffer it is given and returns how many
    /// bytes it put there, 0 at the end; an error from it stops the write and the half-written
    /// file is removed. Memory use stays at one chunk, whatever the file's size.
    using FileSource = std::function<Result<size_t>(std::span<uint8_t> buffer)>;
    Result<void> write_file(std::string const& path, FileSource const& source, uint32_t mode = 0644);
    /// Reads a whole file; fails with BadConfig beyond `max_size`.
    Result<std::string> read_file(std::string const& path, uint64_t max_size = 256ull << 20);
    /// Streams a file: `sink` gets each chunk in order, on the sandbox's reader thread.
    Result<void> read_file(std::string const& path, std::function<void(std::span<uint8_t const>)> sink);
    Result<FileInfo> stat(std::string const& path);
    Result<void> mkdir(std::string const& path, Parents parents = Parents::Fail, uint32_t mode = 0755);
    Result<void> remove(std::string const& path, Recursive recursive = Recursive::No);

    /// Writes a snapshot of the running VM into `directory` (created if missing; files `state`
    /// and `memory`, docs/snapshots.md): pauses the VM, saves every vCPU, interrupt controller,
    /// clock and device, writes guest memory (zero pages as holes) and lets the VM go on. Jobs
    /// keep running here; in restored copies, jobs and connections of this moment are gone.
    /// Errors: BadConfig for a sandbox without its own VMM or a device that cannot be saved.
    Result<void> snapshot(std::string const& directory);

    /// A round trip to the agent: is the sandbox still alive?
    Result<void> ping(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// Stops the VM now (as the destructor does) and reports how it went; later calls fail.
    Result<void> shutdown();

    /// Lets the VM run on without this handle, which is left empty (as if moved from). Jobs still
    /// running on this handle are killed (nobody could read their output); the guest's files and
    /// processes it started in the background stay. The VM runs until connect()ed to and stopped,
    /// until its SandboxOptions::lifetime ends or its guest powers off — or until this process
    /// exits: husk-vmm stays a child that dies with its parent, as a detached std::thread dies
    /// with its process. Errors: BadConfig for a sandbox without its own VMM.
    Result<DetachedSandbox> detach();

    SandboxOptions const& options() const;
    /// husk-vmm's process id; 0 for a sandbox attached to an existing stream. When jailed, this
    /// is the jail launcher; the VMM itself is its only child.
    pid_t vmm_pid() const;
    /// Whether husk-vmm runs jailed (see JailMode), with its own uid/gid, namespaces and cgroup.
    bool jailed() const;
    /// The uid (and gid) the jailed VMM runs as; 0 when not jailed.
    uint32_t jail_uid() const;

private:
    friend struct detail::SandboxAccess;
    explicit Sandbox(std::unique_ptr<detail::SandboxState> state);
    std::unique_ptr<detail::SandboxState> m_state;
};

} // namespace husk

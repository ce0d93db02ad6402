// Sandbox::detach and Sandbox::connect: handing a running VM from one Sandbox handle to another.
// The sandbox directory is the hand-over point: detach() leaves the VMM's pid in it, connect()
// claims that file by renaming it (so two connects cannot both take the VM), checks that the pid
// is still the husk-vmm serving the directory's socket, and connects to the agent. Everything
// read from the directory is checked: it may have been tampered with by then.
#include "husk/sandbox.hpp"

#include "runtime/base/fd.hpp"
#include "sdk/src/sandbox_state.hpp"

#include <charconv>
#include <memory>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

using detail::SandboxState;

namespace {

    constexpr size_t max_pid_text = 16;
    constexpr size_t max_cmdline = 256 * 1024;

    Error not_detached(std::string const& directory, std::string const& why)
    {
        return Error { "not a detached sandbox: " + directory + ": " + why, 0, ErrorKind::BadConfig };
    }

    // Ours alone: a real directory (no symlink) of this user that nobody else may enter.
    Result<void> check_directory(std::string const& directory)
    {
        struct stat info {};
        if (directory.empty() || directory[0] != '/')
            return unexpected(not_detached(directory, "the path must be absolute"));
        if (lstat(directory.c_str(), &info) < 0)
            return unexpected(not_detached(directory, Error::from_errno("lstat").message));
        if (!S_ISDIR(info.st_mode))
            return unexpected(not_detached(directory, "not a directory"));
        if (info.st_uid != geteuid() || (info.st_mode & 077) != 0)
            return unexpected(not_detached(directory, "not a private directory of this user"));
        return {};
    }

    Result<pid_t> parse_pid(std::string const& directory, std::string text)
    {
        if (!text.empty() && text.back() == '\n')
            text.pop_back();
        long value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || error != std::errc() || end != text.data() + text.size() || value <= 0
            || value > 0x3fffffff)
            return unexpected(not_detached(directory, "its pid file is malformed"));
        return static_cast<pid_t>(value);
    }

    // Takes the pid file away (atomically, so one connect wins) and reads it.
    Result<pid_t> claim_pid(std::string const& directory, std::string& claimed_path)
    {
        auto pid_path = directory + "/" + detail::pid_file;
        claimed_path = pid_path + ".claimed-" + std::to_string(getpid());
        if (rename(pid_path.c_str(), claimed_path.c_str()) < 0) {
            if (errno == ENOENT)
                return unexpected(not_detached(directory, "no pid file (never detached, or already connected to)"));
            return unexpected(not_detached(directory, Error::from_errno("rename").message));
        }
        auto fd = Fd::open(claimed_path, O_RDONLY | O_NOFOLLOW);
        if (!fd)
            return unexpected(not_detached(directory, fd.error().message));
        char text[max_pid_text + 1] {};
        ssize_t got = read(fd->get(), text, max_pid_text + 1);
        if (got < 0 || static_cast<size_t>(got) > max_pid_text)
            return unexpected(not_detached(directory, "its pid file is malformed"));
        return parse_pid(directory, std::string(text, static_cast<size_t>(got)));
    }

    // pid numbers are reused: the process must still be the husk-vmm serving this socket.
    Result<void> check_serves(pid_t pid, std::string const& directory, std::string const& socket_path)
    {
        auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline", max_cmdline);
        if (!cmdline)
            return fail(ErrorKind::VmDied, "husk-vmm (pid " + std::to_string(pid) + ") is gone");
        std::string_view rest(*cmdline);
        while (!rest.empty()) {
            auto end = rest.find('\0');
            if (rest.substr(0, end) == socket_path)
                return {};
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        }
        return unexpected(not_detached(directory, "process " + std::to_string(pid) + " is not its husk-vmm"));
    }

    Result<void> write_pid_file(std::string const& directory, pid_t pid)
    {
        auto path = directory + "/" + detail::pid_file;
        auto fd = TRY(Fd::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
        auto text = std::to_string(pid) + "\n";
        return write_all(fd.get(), text.data(), text.size());
    }

} // namespace

Result<DetachedSandbox> Sandbox::detach()
{
    if (!m_state || !m_state->vmm || !m_state->temp_dir)
        return fail(ErrorKind::BadConfig, "only a sandbox that booted its own VM can be detached");
    auto& state = *m_state;
    if (state.stopped)
        return fail(ErrorKind::BadConfig, "the sandbox was shut down");
    if (auto exit = state.vmm->peek_exit())
        return unexpected(state.vm_died_error(*exit, "before it could be detached"));
    DetachedSandbox detached { state.temp_dir->path(), state.vmm->pid() };
    TRY_CONTEXT(write_pid_file(detached.directory, detached.vmm_pid), "detach");
    state.client->close(Error { "the sandbox was detached", 0, ErrorKind::AgentDisconnected });
    // Once the VM has ended nobody can connect to it any more: its jail leftovers and directory
    // go, and only then its jail id is free for another VM (std::function needs a copyable
    // callable, hence the shared jail).
    auto jail = std::make_shared<std::optional<detail::SandboxJail>>(std::move(state.jail));
    state.jail.reset();
    // passt (an unjailed sandbox's network) ends by itself when husk-vmm closes its socket.
    if (state.passt)
        state.passt->process().release([] {});
    state.vmm->release([directory = state.temp_dir->release(), jail] {
        jail->reset(); // cleans up and releases the id
        detail::TempDir::adopt(directory);
    });
    state.stopped = true;
    m_state.reset();
    return detached;
}

Result<Sandbox> Sandbox::connect(std::string const& directory, SandboxOptions options)
{
    TRY(detail::check_options(options));
    TRY(check_directory(directory));
    auto deadline = std::chrono::steady_clock::now() + options.boot_timeout;
    std::string claimed_path;
    auto pid = claim_pid(directory, claimed_path);
    if (!pid) {
        if (!claimed_path.empty())
            (void)rename(claimed_path.c_str(), (directory + "/" + detail::pid_file).c_str());
        return unexpected(std::move(pid).error());
    }

    auto state = std::make_unique<SandboxState>();
    state->options = std::move(options);
    state->log_path = directory + "/" + detail::log_file;
    state->report_path = directory + "/" + detail::report_file;
    auto socket_path = directory + "/" + detail::socket_file;
    auto taken = [&]() -> Result<void> {
        state->vmm.emplace(TRY(detail::VmmChild::adopt(*pid)));
        TRY(check_serves(*pid, directory, socket_path));
        auto stream = TRY(detail::wait_for_agent(*state, socket_path, deadline));
        return detail::open_agent(*state, std::move(stream), deadline);
    }();
    if (!taken) {
        if (state->client)
            state->client->close(taken.error());
        state->stopped = true;
        bool gone = taken.error().kind == ErrorKind::VmDied || (state->vmm && state->vmm->peek_exit());
        if (gone)
            detail::TempDir::adopt(directory); // the VM has ended: its directory goes too
        else // leave the VM and its directory as they were, for another try
            (void)rename(claimed_path.c_str(), (directory + "/" + detail::pid_file).c_str());
        if (state->vmm)
            state->vmm->forget();
        return unexpected(std::move(taken).error());
    }
    unlink(claimed_path.c_str());
    state->temp_dir.emplace(detail::TempDir::adopt(directory));
    return Sandbox(std::move(state));
}

} // namespace husk

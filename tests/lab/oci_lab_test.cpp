// lab_oci: husk-oci against real VMs, driven directly (the runc lifecycle: create, state, start,
// kill, delete, the pid file and the monitor's exit status, as conmon and containerd's shim see
// them) and through real podman (`--runtime husk-oci`) with a busybox image imported locally.
// podman runs with vfs storage, cgroupfs and --network none so the lab kernel needs no overlayfs
// for podman, no systemd and no network.
#include "tests/lab/oci_lab_support.hpp"
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using husk_oci_lab::Outcome;
using husk_oci_lab::read_text;
using husk_oci_lab::shell;
using husk_oci_lab::write_text;

// husk-vmm processes anywhere on the lab host, after giving exiting ones up to 10 s (TCG) to go.
int count_vmms_now();
int count_vmms()
{
    for (int i = 0; i < 100 && count_vmms_now() > 0; ++i)
        std::this_thread::sleep_for(100ms);
    return count_vmms_now();
}

// Jail directories of VMs (the jail removes them when its VM stops, unless killed with -9).
size_t count_jails()
{
    std::error_code ignored;
    size_t count = 0;
    for (auto it = fs::directory_iterator("/run/husk/jail", ignored); it != fs::directory_iterator(); ++it)
        ++count;
    return count;
}

int count_vmms_now()
{
    int count = 0;
    for (auto const& entry : fs::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto comm = read_text(entry.path() / "comm");
        auto stat = read_text(entry.path() / "stat");
        auto state = stat.rfind(')') + 2; // zombies are gone already, their parent has yet to reap them
        if (comm.starts_with("husk-vmm") && state < stat.size() && stat[state] != 'Z')
            ++count;
    }
    return count;
}

class OciLab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        // The monitor outlives `husk-oci create`, as conmon's and the shim's children do; being
        // the subreaper lets this test waitpid() it as they do.
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        s_work = fs::path("/tmp") / ("oci-lab-" + std::to_string(getpid()));
        fs::create_directories(s_work / "rootfs/bin");
        fs::copy_file("/bin/busybox", s_work / "rootfs/bin/busybox");
        for (auto const* applet :
            { "sh", "echo", "cat", "sleep", "ls", "true", "kill", "hostname", "id", "stat", "mkdir", "wget" })
            fs::create_symlink("busybox", s_work / "rootfs/bin" / applet);
        write_text(s_work / "rootfs/not-executable", "#!/bin/sh\necho no\n");
        chmod((s_work / "rootfs/not-executable").c_str(), 0644);
        fs::create_directories(s_work / "rootfs/tmp");
        chmod((s_work / "rootfs/tmp").c_str(), 01777);
        // Root-owned places only container root may write (runc's semantics, docs/oci.md).
        fs::create_directories(s_work / "rootfs/etc");
        write_text(s_work / "rootfs/etc/motd", "image motd\n");
        fs::create_directories(s_work / "rootfs/root");
        chmod((s_work / "rootfs/root").c_str(), 0700);
        // A container user's home: what it writes there is its own on the host.
        fs::create_directories(s_work / "rootfs/home/user");
        EXPECT_EQ(chown((s_work / "rootfs/home/user").c_str(), 1000, 1000), 0) << std::strerror(errno);
    }

    static void TearDownTestSuite()
    {
        std::error_code ignored;
        fs::remove_all(s_work, ignored);
    }

    // A bundle whose process runs `script` with /bin/sh.
    fs::path bundle(std::string const& name, std::string const& script, bool terminal = false)
    {
        auto path = s_work / name;
        fs::create_directories(path);
        fs::create_symlink(s_work / "rootfs", path / "rootfs");
        std::string escaped;
        for (char c : script)
            escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
        write_text(path / "config.json",
            R"({"ociVersion":"1.0.2","process":{"terminal":)" + std::string(terminal ? "true" : "false")
                + R"(,"args":["sh","-c",")" + escaped
                + R"("],"env":["PATH=/bin"],"cwd":"/","user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},)"
                + R"("hostname":"oci-lab","annotations":{"io.husk.memory":"128M"}})");
        return path;
    }

    std::string oci(std::string const& arguments)
    {
        return std::string(HUSK_OCI_PATH) + " --root " + (s_work / "state").string() + " --log "
            + (s_work / "log.json").string() + " --log-format json " + arguments;
    }

    // `create` with the container's stdio on files: the monitor keeps create's stdio as the
    // container's (as runc's container process does), so a pipe from popen would never see EOF.
    // The output file gets create's own error messages and, later, the container's output.
    Outcome create(std::string const& arguments, std::string const& output_file, std::string const& input = "/dev/null")
    {
        auto outcome = shell(oci("create " + arguments) + " < " + input + " > " + output_file);
        outcome.output = read_text(output_file);
        return outcome;
    }

    pid_t pid_from(fs::path const& pid_file) { return static_cast<pid_t>(std::stol(read_text(pid_file))); }

    // The monitor's status as waitpid() reports it, like conmon and the shim read it.
    int wait_status(pid_t pid)
    {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid)
            return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    static inline fs::path s_work;
};

TEST_F(OciLab, LifecycleFollowsRunc)
{
    auto path = bundle("lifecycle", "echo out-line; echo err-line >&2; hostname; exit 3");
    auto pid_file = s_work / "lifecycle.pid";
    auto created
        = create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " life", s_work / "life.out");
    ASSERT_EQ(created.status, 0) << created.output;
    pid_t monitor = pid_from(pid_file);
    EXPECT_EQ(kill(monitor, 0), 0);

    auto state = shell(oci("state life"));
    EXPECT_NE(state.output.find("\"status\": \"created\""), std::string::npos) << state.output;
    EXPECT_NE(state.output.find("\"pid\": " + std::to_string(monitor)), std::string::npos) << state.output;
    EXPECT_NE(state.output.find("\"bundle\": \"" + path.string() + "\""), std::string::npos) << state.output;
    EXPECT_EQ(create("--bundle " + path.string() + " life", s_work / "life2.out").status, 1)
        << "a second create of one id";

    auto started = shell(oci("start life"));
    ASSERT_EQ(started.status, 0) << started.output;
    EXPECT_EQ(wait_status(monitor), 3);
    // stdout and stderr are two streams into one file here: the order within each one holds.
    auto output = read_text(s_work / "life.out");
    EXPECT_EQ(output.size(), std::string("out-line\nerr-line\noci-lab\n").size()) << output;
    EXPECT_NE(output.find("err-line\n"), std::string::npos) << output;
    auto first = output.find("out-line\n");
    EXPECT_NE(first, std::string::npos) << output;
    EXPECT_LT(first, output.find("oci-lab\n")) << output;
    state = shell(oci("state life"));
    EXPECT_NE(state.output.find("\"status\": \"stopped\""), std::string::npos) << state.output;
    EXPECT_EQ(shell(oci("start life")).status, 1);
    auto removed = shell(oci("delete life"));
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_FALSE(fs::exists(s_work / "state/life"));
    EXPECT_NE(shell(oci("state life")).status, 0);
}

TEST_F(OciLab, MonitorCopiesStdioAndDiesOfTheGuestSignal)
{
    auto path = bundle("stdio", "read line; echo got-$line; echo to-err >&2; kill -USR1 $$");
    auto pid_file = s_work / "stdio.pid";
    auto out = s_work / "stdio.out";
    auto input = s_work / "stdio.in";
    write_text(input, "hello\n");
    auto created = create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " stdio", out, input);
    ASSERT_EQ(created.status, 0) << created.output;
    pid_t monitor = pid_from(pid_file);
    ASSERT_EQ(shell(oci("start stdio")).status, 0);
    EXPECT_EQ(wait_status(monitor), 128 + SIGUSR1);
    EXPECT_EQ(read_text(out), "got-hello\nto-err\n");
    EXPECT_EQ(shell(oci("delete stdio")).status, 0);
}

TEST_F(OciLab, KillForwardsSignalsAndDeleteForceCleansUp)
{
    auto path = bundle("kill", "trap 'echo got-term; exit 7' TERM; while true; do sleep 0.1; done");
    auto pid_file = s_work / "kill.pid";
    auto out = s_work / "kill.out";
    ASSERT_EQ(create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " k", out).status, 0);
    pid_t monitor = pid_from(pid_file);
    ASSERT_EQ(shell(oci("start k")).status, 0);
    EXPECT_NE(shell(oci("state k")).output.find("\"status\": \"running\""), std::string::npos);
    EXPECT_EQ(shell(oci("delete k")).status, 1) << "a running container needs --force";
    std::this_thread::sleep_for(1s); // let the shell install its trap
    EXPECT_EQ(shell(oci("kill k TERM")).status, 0);
    EXPECT_EQ(wait_status(monitor), 7);
    // The agent signals the process group: busybox sh also reports its `sleep` child terminated.
    EXPECT_TRUE(read_text(out).ends_with("got-term\n")) << read_text(out);
    EXPECT_EQ(shell(oci("delete k")).status, 0);

    // Signal names and numbers; --force kills a running container and removes everything.
    ASSERT_EQ(
        create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " k2", s_work / "k2.out").status, 0);
    monitor = pid_from(pid_file);
    ASSERT_EQ(shell(oci("start k2")).status, 0);
    EXPECT_EQ(shell(oci("kill k2 SIGBOGUS")).status, 1);
    EXPECT_EQ(shell(oci("kill k2 9")).status, 0);
    EXPECT_EQ(wait_status(monitor), 128 + SIGKILL);
    EXPECT_EQ(shell(oci("delete --force k2")).status, 0);
    EXPECT_FALSE(fs::exists(s_work / "state/k2"));
    EXPECT_EQ(count_vmms(), 0);
    EXPECT_EQ(count_jails(), 0u) << "SIGKILL goes through the monitor, which stops the VM cleanly";
}

TEST_F(OciLab, CreateReportsMissingAndNonExecutablePrograms)
{
    auto missing = bundle("missing", "true");
    auto config = read_text(missing / "config.json");
    config.replace(config.find("\"sh\",\"-c\",\"true\""), std::string("\"sh\",\"-c\",\"true\"").size(), "\"nosuch\"");
    write_text(missing / "config.json", config);
    auto created = create("--bundle " + missing.string() + " m", s_work / "m.out");
    EXPECT_EQ(created.status, 1);
    EXPECT_NE(created.output.find("executable file not found in $PATH"), std::string::npos) << created.output;
    EXPECT_FALSE(fs::exists(s_work / "state/m")) << "a failed create leaves nothing behind";

    auto denied = bundle("denied", "true");
    config = read_text(denied / "config.json");
    config.replace(
        config.find("\"sh\",\"-c\",\"true\""), std::string("\"sh\",\"-c\",\"true\"").size(), "\"/not-executable\"");
    write_text(denied / "config.json", config);
    created = create("--bundle " + denied.string() + " d", s_work / "d.out");
    EXPECT_EQ(created.status, 1);
    EXPECT_NE(created.output.find("permission denied"), std::string::npos) << created.output;
    auto log = read_text(s_work / "log.json");
    EXPECT_NE(log.find("{\"level\":\"error\",\"msg\":\"unable to start container process: exec: "
                       "\\\"/not-executable\\\": permission denied\",\"time\":\""),
        std::string::npos)
        << log;
}

TEST_F(OciLab, ExecRunsBesideTheContainerProcess)
{
    auto path = bundle("exec", "sleep 1000");
    auto pid_file = s_work / "exec.pid";
    ASSERT_EQ(
        create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " e", s_work / "e.out").status, 0);
    pid_t monitor = pid_from(pid_file);
    ASSERT_EQ(shell(oci("start e")).status, 0);
    write_text(s_work / "process.json",
        R"({"args":["sh","-c","cat; echo exec-out; exit 5"],"env":["PATH=/bin"],"cwd":"/tmp"})");
    auto exec = shell("echo piped | " + oci("exec --process " + (s_work / "process.json").string() + " e"));
    EXPECT_EQ(exec.status, 5);
    EXPECT_EQ(exec.output, "piped\nexec-out\n");
    write_text(s_work / "missing.json", R"({"args":["nosuch"],"cwd":"/"})");
    exec = shell(oci("exec --process " + (s_work / "missing.json").string() + " e"));
    EXPECT_EQ(exec.status, 1);
    EXPECT_NE(exec.output.find("executable file not found in $PATH"), std::string::npos) << exec.output;

    // --detach: the pid file names a stand-in that exits as the exec'd process does.
    write_text(s_work / "detached.json", R"({"args":["sh","-c","sleep 1; exit 4"],"cwd":"/"})");
    auto exec_pid = s_work / "exec-detached.pid";
    exec = shell(oci("exec --detach --pid-file " + exec_pid.string() + " --process "
                     + (s_work / "detached.json").string() + " e")
        + " < /dev/null");
    ASSERT_EQ(exec.status, 0) << exec.output;
    EXPECT_EQ(wait_status(pid_from(exec_pid)), 4);

    EXPECT_EQ(shell(oci("kill e KILL")).status, 0);
    EXPECT_EQ(wait_status(monitor), 128 + SIGKILL);
    EXPECT_EQ(shell(oci("delete e")).status, 0);
}

TEST_F(OciLab, TerminalGoesThroughTheConsoleSocket)
{
    auto path = bundle("tty", "read line; echo got-$line", true);
    auto socket_path = s_work / "console.sock";
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(listener, 1), 0);
    auto pid_file = s_work / "tty.pid";
    EXPECT_EQ(create("--bundle " + path.string() + " tty", s_work / "tty-refused.out").status, 1)
        << "a terminal needs a console socket";
    auto created = create("--bundle " + path.string() + " --pid-file " + pid_file.string() + " --console-socket "
            + socket_path.string() + " tty",
        s_work / "tty.out");
    ASSERT_EQ(created.status, 0) << created.output;
    EXPECT_EQ(read_text(s_work / "tty.out"), "") << "the monitor keeps none of create's stdio";

    // The pty master arrives as one descriptor with the pty's name as payload, as from runc.
    int connection = accept(listener, nullptr, nullptr);
    ASSERT_GE(connection, 0);
    char name[128] {};
    iovec iov { name, sizeof name - 1 };
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] {};
    msghdr message {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ASSERT_GT(recvmsg(connection, &message, 0), 0);
    EXPECT_TRUE(std::string(name).starts_with("/dev/pts/")) << name;
    auto* header = CMSG_FIRSTHDR(&message);
    ASSERT_NE(header, nullptr);
    ASSERT_EQ(header->cmsg_type, SCM_RIGHTS);
    int master = -1;
    memcpy(&master, CMSG_DATA(header), sizeof master);
    close(connection);
    close(listener);

    ASSERT_EQ(write(master, "hello\n", 6), 6);
    ASSERT_EQ(shell(oci("start tty")).status, 0);
    EXPECT_EQ(wait_status(pid_from(pid_file)), 0);
    std::string screen;
    char buffer[256];
    ssize_t n;
    while ((n = read(master, buffer, sizeof buffer)) > 0)
        screen.append(buffer, static_cast<size_t>(n));
    close(master);
    // The host pty echoes the typed line and turns "\n" into "\r\n", as a terminal does.
    EXPECT_NE(screen.find("got-hello\r\n"), std::string::npos) << screen;
    EXPECT_EQ(shell(oci("delete tty")).status, 0);
}

// podman with husk-oci as its runtime.
class PodmanLab : public OciLab {
protected:
    static void SetUpTestSuite()
    {
        OciLab::SetUpTestSuite();
        auto tar = s_work / "rootfs.tar";
        auto made = shell("tar -C " + (s_work / "rootfs").string() + " -cf " + tar.string() + " .");
        ASSERT_EQ(made.status, 0) << made.output;
        auto imported = shell(podman("import " + tar.string() + " localhost/husk-oci-lab:latest"));
        ASSERT_EQ(imported.status, 0) << "podman itself does not work in the lab: " << imported.output;
    }

    static std::string podman(std::string const& arguments)
    {
        // vfs and cgroupfs: no overlayfs or systemd needed from the lab; the state of podman and
        // of husk-oci in this test's own directories.
        return "podman --root " + (s_work / "podman/root").string() + " --runroot " + (s_work / "podman/run").string()
            + " --storage-driver vfs --cgroup-manager cgroupfs --events-backend none --runtime " + HUSK_OCI_PATH + " "
            + arguments;
    }

    static std::string run(std::string const& arguments)
    {
        return podman("run --network none --log-driver k8s-file " + arguments);
    }
};

TEST_F(PodmanLab, RunOutputAndExitCodes)
{
    auto ran = shell(run("--rm localhost/husk-oci-lab echo hello from husk"));
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_EQ(ran.output, "hello from husk\n");
    EXPECT_EQ(shell(run("--rm localhost/husk-oci-lab sh -c 'exit 3'")).status, 3);
    ran = shell(run("--rm localhost/husk-oci-lab nosuch"));
    EXPECT_EQ(ran.status, 127) << ran.output;
    ran = shell(run("--rm localhost/husk-oci-lab /not-executable"));
    EXPECT_EQ(ran.status, 126) << ran.output;
    ran = shell(run("--rm localhost/husk-oci-lab sh -c 'kill -9 $$'"));
    EXPECT_EQ(ran.status, 137) << ran.output;
    ran = shell("echo typed | " + run("-i --rm localhost/husk-oci-lab cat"));
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_EQ(ran.output, "typed\n");
}

TEST_F(PodmanLab, DetachedLogsExecStopRemove)
{
    auto started = shell(run("-d --name husky localhost/husk-oci-lab sh -c 'echo started; sleep 1000'"));
    ASSERT_EQ(started.status, 0) << started.output;
    std::this_thread::sleep_for(2s);
    auto logs = shell(podman("logs husky"));
    EXPECT_EQ(logs.output, "started\n");
    auto exec = shell(podman("exec husky sh -c 'echo in-exec; exit 5'"));
    EXPECT_EQ(exec.status, 5) << exec.output;
    EXPECT_EQ(exec.output, "in-exec\n");
    exec = shell(podman("exec husky nosuch"));
    EXPECT_EQ(exec.status, 127) << exec.output;
    auto inspected = shell(podman("inspect --format '{{.State.Status}}' husky"));
    EXPECT_EQ(inspected.output, "running\n");
    // sleep ignores nothing: SIGTERM ends it (143) well before stop's timeout.
    auto stopped = shell(podman("stop -t 20 husky"));
    EXPECT_EQ(stopped.status, 0) << stopped.output;
    inspected = shell(podman("inspect --format '{{.State.Status}} {{.State.ExitCode}}' husky"));
    EXPECT_EQ(inspected.output, "exited 143\n");
    EXPECT_EQ(shell(podman("rm husky")).status, 0);

    ASSERT_EQ(shell(run("-d --name husky2 localhost/husk-oci-lab sleep 1000")).status, 0);
    auto removed = shell(podman("rm -f husky2"));
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_EQ(count_vmms(), 0);
    EXPECT_EQ(count_jails(), 0u);
    // podman's runtime state: husk-oci's default root unless podman passes its own --root.
    EXPECT_TRUE(!fs::exists("/run/husk-oci") || fs::is_empty("/run/husk-oci")) << "husk-oci state left behind";
}

// `podman run -v`: config.json bind mounts of host directories become shares of the VM, with
// runc's ownership: what container root writes in a root-owned directory is root's on the host.
TEST_F(PodmanLab, VolumesReadWriteAndReadOnly)
{
    auto data = s_work / "volume-rw";
    auto input = s_work / "volume-ro";
    fs::create_directories(data);
    fs::create_directories(input);
    chmod(data.c_str(), 0755);
    write_text(input / "in.txt", "from the host\n");

    auto ran = shell(run("--rm -v " + data.string() + ":/data -v " + input.string()
        + ":/in:ro localhost/husk-oci-lab sh -c 'cat /in/in.txt; echo from the container > /data/out.txt; "
          "echo x > /in/refused || echo refused'"));

    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_NE(ran.output.find("from the host\n"), std::string::npos) << ran.output;
    EXPECT_NE(ran.output.find("Read-only file system"), std::string::npos) << ran.output;
    EXPECT_NE(ran.output.find("refused\n"), std::string::npos) << ran.output;
    EXPECT_EQ(read_text(data / "out.txt"), "from the container\n");
    struct stat st { };
    ASSERT_EQ(stat((data / "out.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
    EXPECT_FALSE(fs::exists(input / "refused"));
    EXPECT_EQ(count_vmms(), 0);
}

// The bundle's rootfs directory is the guest's root over virtio-9p, written in place with the
// container's own owners (runc's semantics): container root writes /root and /etc, a container
// user only where the modes let it, and podman's diff, commit and mount see it all on the host.
TEST_F(PodmanLab, RootfsWritesReachTheHostWithTheContainersOwners)
{
    auto ran = shell(run("--name writer localhost/husk-oci-lab sh -c 'echo guest > /root/note && "
                         "echo changed >> /etc/motd && mkdir /bin/extra && cat /root/note'"));
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_EQ(ran.output, "guest\n");
    auto as_user
        = shell(run("--name user-writer --user 1000:1000 localhost/husk-oci-lab sh -c 'id -u; echo user > "
                    "/home/user/by-user; echo x >> /etc/motd || echo etc-denied; ls /root || echo root-denied'"));
    EXPECT_EQ(as_user.status, 0) << as_user.output;
    EXPECT_NE(as_user.output.find("1000\n"), std::string::npos) << as_user.output;
    EXPECT_NE(as_user.output.find("etc-denied\n"), std::string::npos) << as_user.output;
    EXPECT_NE(as_user.output.find("root-denied\n"), std::string::npos) << as_user.output;
    auto user_mounted = shell(podman("mount user-writer"));
    ASSERT_EQ(user_mounted.status, 0) << user_mounted.output;
    fs::path user_rootfs = user_mounted.output.substr(0, user_mounted.output.find('\n'));
    struct stat by_user { };
    ASSERT_EQ(stat((user_rootfs / "home/user/by-user").c_str(), &by_user), 0);
    EXPECT_EQ(by_user.st_uid, 1000u);
    EXPECT_EQ(by_user.st_gid, 1000u);
    EXPECT_EQ(read_text(user_rootfs / "etc/motd"), "image motd\n");
    shell(podman("unmount user-writer"));
    EXPECT_EQ(shell(podman("rm user-writer")).status, 0);

    // The container's own rootfs directory in podman's storage, after the run.
    auto mounted = shell(podman("mount writer"));
    ASSERT_EQ(mounted.status, 0) << mounted.output;
    fs::path rootfs = mounted.output.substr(0, mounted.output.find('\n'));
    EXPECT_EQ(read_text(rootfs / "root/note"), "guest\n") << rootfs;
    EXPECT_EQ(read_text(rootfs / "etc/motd"), "image motd\nchanged\n");
    struct stat st { };
    ASSERT_EQ(stat((rootfs / "root/note").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
    ASSERT_EQ(stat((rootfs / "bin/extra").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_uid, 0u);
    shell(podman("unmount writer"));

    auto diff = shell(podman("diff writer"));
    EXPECT_EQ(diff.status, 0) << diff.output;
    EXPECT_NE(diff.output.find("A /root/note"), std::string::npos) << diff.output;
    EXPECT_NE(diff.output.find("/etc/motd"), std::string::npos) << diff.output;
    EXPECT_NE(diff.output.find("A /bin/extra"), std::string::npos) << diff.output;

    // podman commit stages image data in /var/tmp whatever it is told; the lab's is read-only (the
    // host's root), so the lab VM gets a tmpfs there.
    if (access("/var/tmp", W_OK) != 0) {
        ASSERT_EQ(shell("mount -t tmpfs -o mode=1777 husk-lab-var-tmp /var/tmp").status, 0);
    }
    auto committed = shell(podman("commit -q writer localhost/husk-oci-lab-committed"));
    ASSERT_EQ(committed.status, 0) << committed.output;
    auto from_commit = shell(run("--rm localhost/husk-oci-lab-committed cat /root/note /etc/motd"));
    EXPECT_EQ(from_commit.status, 0) << from_commit.output;
    EXPECT_EQ(from_commit.output, "guest\nimage motd\nchanged\n");
    EXPECT_EQ(shell(podman("rm writer")).status, 0);
    shell(podman("rmi localhost/husk-oci-lab-committed"));
    EXPECT_EQ(count_vmms(), 0);
}

// The capabilities of a VMM with guest-owned shares, read from /proc while it runs: its event
// thread (which serves 9P) has exactly CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_FSETID,
// every other thread none (io_uring's workers run the event thread's requests as it), and nothing
// else can ever be gained (bounding set).
std::vector<std::pair<std::string, std::string>> vmm_thread_capabilities()
{
    std::vector<std::pair<std::string, std::string>> threads;
    for (auto const& entry : fs::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos
            || !read_text(entry.path() / "comm").starts_with("husk-vmm"))
            continue;
        // The launcher (root, outside the jail) has the VMM as its child; only the VMM has threads.
        for (auto const& task : fs::directory_iterator(entry.path() / "task")) {
            auto comm = read_text(task.path() / "comm");
            std::string effective, permitted, bounding, uid;
            std::istringstream status(read_text(task.path() / "status"));
            for (std::string line; std::getline(status, line);) {
                if (line.starts_with("CapEff:"))
                    effective = line.substr(8);
                if (line.starts_with("CapPrm:"))
                    permitted = line.substr(8);
                if (line.starts_with("CapBnd:"))
                    bounding = line.substr(8);
                if (line.starts_with("Uid:"))
                    uid = line.substr(5, line.find('\t', 5) - 5);
            }
            if (uid != "0")
                threads.emplace_back(comm.substr(0, comm.find('\n')), effective + " " + permitted + " " + bounding);
        }
    }
    return threads;
}

// `podman cp` into a created container and out of a stopped one (podman copies in its storage),
// and both ways with a running one (podman joins the pid file process's mount namespace: the
// monitor's, whose "/" is the rootfs); a running container and the host see each other's writes
// in its rootfs at once. While it runs, only its VMM's event thread holds capabilities.
TEST_F(PodmanLab, CopyInAndOut_RunningContainerSharesItsRootfs_OnlyTheEventThreadHasCapabilities)
{
    write_text(s_work / "to-container.txt", "copied in\n");
    ASSERT_EQ(shell(podman("create --network none --log-driver k8s-file --name copier localhost/husk-oci-lab sh -c "
                           "'cat /root/in.txt; echo made inside > /root/out.txt'"))
                  .status,
        0);
    auto copied_in = shell(podman("cp " + (s_work / "to-container.txt").string() + " copier:/root/in.txt"));
    EXPECT_EQ(copied_in.status, 0) << copied_in.output;
    auto started = shell(podman("start -a copier"));
    EXPECT_EQ(started.status, 0) << started.output;
    EXPECT_EQ(started.output, "copied in\n");
    auto copied_out = shell(podman("cp copier:/root/out.txt " + (s_work / "from-container.txt").string()));
    EXPECT_EQ(copied_out.status, 0) << copied_out.output;
    EXPECT_EQ(read_text(s_work / "from-container.txt"), "made inside\n");
    EXPECT_EQ(shell(podman("rm copier")).status, 0);

    auto running = shell(run("-d --name sharer localhost/husk-oci-lab sleep 1000"));
    ASSERT_EQ(running.status, 0) << running.output;
    auto mounted = shell(podman("mount sharer"));
    ASSERT_EQ(mounted.status, 0) << mounted.output;
    fs::path rootfs = mounted.output.substr(0, mounted.output.find('\n'));
    write_text(rootfs / "root/from-host.txt", "written on the host\n");
    auto seen = shell(podman("exec sharer cat /root/from-host.txt"));
    EXPECT_EQ(seen.output, "written on the host\n");
    ASSERT_EQ(shell(podman("exec sharer sh -c 'echo written in the guest > /root/from-guest.txt'")).status, 0);
    EXPECT_EQ(read_text(rootfs / "root/from-guest.txt"), "written in the guest\n");

    // podman cp with the running container: podman joins the monitor's mount namespace and works
    // at its "/", which is the container's rootfs (sdk/oci/container_mount_namespace.hpp).
    write_text(s_work / "cp-running.txt", "copied into a running container\n");
    auto into_running = shell(podman("cp " + (s_work / "cp-running.txt").string() + " sharer:/root/cp-running.txt"));
    EXPECT_EQ(into_running.status, 0) << into_running.output;
    EXPECT_EQ(shell(podman("exec sharer cat /root/cp-running.txt")).output, "copied into a running container\n");
    EXPECT_FALSE(fs::exists("/root/cp-running.txt")) << "copied into the host's root";
    auto out_of_running = shell(podman("cp sharer:/root/from-guest.txt " + (s_work / "cp-out-running.txt").string()));
    EXPECT_EQ(out_of_running.status, 0) << out_of_running.output;
    EXPECT_EQ(read_text(s_work / "cp-out-running.txt"), "written in the guest\n");

    auto threads = vmm_thread_capabilities();
    ASSERT_GE(threads.size(), 3u) << "main, event and vCPU threads of the one running VMM";
    int event_threads = 0;
    for (auto const& [name, sets] : threads) {
        if (name == "husk-event") {
            ++event_threads;
            EXPECT_EQ(sets, "000000000000001b 000000000000001b 000000000000001b") << name;
        } else if (name.starts_with("iou-")) {
            // io_uring's workers are copies of the thread whose requests they run: the event thread.
            EXPECT_TRUE(sets == "000000000000001b 000000000000001b 000000000000001b"
                || sets == "0000000000000000 0000000000000000 000000000000001b")
                << name << ": " << sets;
        } else {
            EXPECT_EQ(sets, "0000000000000000 0000000000000000 000000000000001b") << name;
        }
    }
    EXPECT_EQ(event_threads, 1);
    shell(podman("unmount sharer"));
    EXPECT_EQ(shell(podman("rm -f sharer")).status, 0);
    EXPECT_EQ(count_vmms(), 0);
}

// A bind mount husk cannot apply (a single file elsewhere than the engine's own) fails the run,
// naming it, instead of running the container without it.
TEST_F(PodmanLab, FileBindMount_IsRefusedNamingIt)
{
    auto file = s_work / "single-file";
    write_text(file, "x\n");
    auto ran = shell(run("--rm -v " + file.string() + ":/etc/single localhost/husk-oci-lab true"));
    EXPECT_NE(ran.status, 0) << ran.output;
    EXPECT_NE(ran.output.find("not single files"), std::string::npos) << ran.output;
    EXPECT_EQ(count_vmms(), 0);
}

// containerd's runc.v2 shim with husk-oci as its runc binary (ctr --runc-binary), on a
// containerd of the test's own (no CRI plugin, native snapshotter: no overlayfs needed), the image
// moved over from podman with `podman save` → `ctr images import`.
class ContainerdLab : public PodmanLab {
protected:
    static void SetUpTestSuite()
    {
        PodmanLab::SetUpTestSuite();
        auto archive = s_work / "image-docker.tar";
        auto saved
            = shell(podman("save --format docker-archive -o " + archive.string() + " localhost/husk-oci-lab:latest"));
        ASSERT_EQ(saved.status, 0) << saved.output;
        auto directory = s_work / "containerd";
        fs::create_directories(directory);
        write_text(directory / "config.toml",
            "version = 2\nroot = \"" + (directory / "root").string() + "\"\nstate = \"" + (directory / "state").string()
                + "\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = \""
                + (directory / "sock").string() + "\"\n");
        s_containerd = fork();
        if (s_containerd == 0) {
            auto log = (directory / "log").string();
            if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr))
                _exit(126);
            auto config = (directory / "config.toml").string();
            execlp("containerd", "containerd", "-c", config.c_str(), nullptr);
            _exit(127);
        }
        for (int i = 0; i < 300 && !fs::exists(directory / "sock"); ++i)
            std::this_thread::sleep_for(100ms);
        auto imported = shell(ctr("images import --snapshotter native " + archive.string()));
        ASSERT_EQ(imported.status, 0) << "containerd does not work in the lab: " << imported.output;
    }

    static void TearDownTestSuite()
    {
        if (s_containerd > 0) {
            kill(s_containerd, SIGTERM);
            waitpid(s_containerd, nullptr, 0);
        }
        PodmanLab::TearDownTestSuite();
    }

    static std::string ctr(std::string const& arguments)
    {
        return "ctr -a " + (s_work / "containerd/sock").string() + " " + arguments;
    }

    static std::string ctr_run(std::string const& arguments)
    {
        return ctr(std::string("run --snapshotter native --runtime io.containerd.runc.v2 --runc-binary ")
            + HUSK_OCI_PATH + " " + arguments);
    }

    static inline pid_t s_containerd { 0 };
};

TEST_F(ContainerdLab, RunExecKillDelete)
{
    auto ran = shell(ctr_run("--rm localhost/husk-oci-lab:latest c1 sh -c 'echo hi from ctr; exit 3'"));
    EXPECT_EQ(ran.status, 3) << ran.output;
    EXPECT_EQ(ran.output, "hi from ctr\n");
    ran = shell(ctr_run("--rm localhost/husk-oci-lab:latest c2 nosuch"));
    EXPECT_NE(ran.status, 0);
    EXPECT_NE(ran.output.find("executable file not found in $PATH"), std::string::npos) << ran.output;

    ASSERT_EQ(shell(ctr_run("-d localhost/husk-oci-lab:latest c3 sleep 1000")).status, 0);
    auto exec = shell(ctr("task exec --exec-id e1 c3 sh -c 'echo in-exec; exit 4'"));
    EXPECT_EQ(exec.status, 4) << exec.output;
    EXPECT_EQ(exec.output, "in-exec\n");
    EXPECT_EQ(shell(ctr("task kill -s KILL c3")).status, 0);
    // The shim reports the status it read with waitpid() on the pid file's process.
    std::string tasks;
    for (int i = 0; i < 100; ++i) {
        tasks = shell(ctr("task ls")).output;
        if (tasks.find("STOPPED") != std::string::npos)
            break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_NE(tasks.find("STOPPED"), std::string::npos) << tasks;
    auto removed = shell(ctr("task rm c3"));
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_NE(removed.output.find("137"), std::string::npos) << removed.output;
    EXPECT_EQ(shell(ctr("container rm c3")).status, 0);
    EXPECT_EQ(count_vmms(), 0);
    EXPECT_EQ(count_jails(), 0u);
}

// containerd's runc-style network namespace (`ctr run --with-ns network:PATH`, as CNI callers
// pass theirs): the VM takes eth0's address there (sdk/oci/container_network.hpp) and reaches
// the namespace's peer; the namespace gets eth0's address back when the container is gone.
TEST_F(ContainerdLab, WithNetworkNamespace_TheVmTakesItsAddress)
{
    shell("ip netns del husk-ctr-net; ip link del hc-host");
    auto made
        = shell("ip netns add husk-ctr-net && ip -n husk-ctr-net link set lo up && ip link add hc-host type veth "
                "peer name eth0 netns husk-ctr-net && ip addr add 10.212.0.1/24 dev hc-host && ip link set hc-host "
                "up && ip -n husk-ctr-net addr add 10.212.0.2/24 dev eth0 && ip -n husk-ctr-net link set eth0 up "
                "&& ip -n husk-ctr-net route add default via 10.212.0.1");
    ASSERT_EQ(made.status, 0) << made.output;
    fs::create_directories(s_work / "ctr-www");
    write_text(s_work / "ctr-www/index.html", "from the namespace's peer\n");
    pid_t server = fork();
    if (server == 0) {
        execl("/bin/busybox", "busybox", "httpd", "-f", "-p", "10.212.0.1:8080", "-h", (s_work / "ctr-www").c_str(),
            static_cast<char*>(nullptr));
        _exit(127);
    }
    std::this_thread::sleep_for(300ms);
    auto ran = shell(ctr_run("--rm --with-ns network:/run/netns/husk-ctr-net localhost/husk-oci-lab:latest cn sh -c "
                             "'ls /sys/class/net; wget -q -O- http://10.212.0.1:8080/'"));
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
    EXPECT_EQ(ran.status, 0) << ran.output;
    EXPECT_EQ(ran.output, "eth0\nlo\nfrom the namespace's peer\n");
    auto address = shell("ip -n husk-ctr-net -4 addr show dev eth0").output;
    EXPECT_NE(address.find("10.212.0.2/24"), std::string::npos) << "given back on delete: " << address;
    EXPECT_EQ(shell("ip -n husk-ctr-net link show").output.find("husk-"), std::string::npos);
    shell("ip netns del husk-ctr-net; ip link del hc-host");
    EXPECT_EQ(count_vmms(), 0);
}

} // namespace

// lab_oci_lifecycle: the OCI runtime lifecycle as opencontainers/runtime-tools' validation checks
// it (create, start, state, kill and delete with their error cases, the state JSON, the pid file,
// hooks), run against runc first and then against husk-oci and crun, each on bundles made the same
// way (the same busybox rootfs, the same config.json). runc's answers are checked against the
// runtime spec, or against runc's own choice where the spec leaves room or runc departs from it
// (podman and containerd rely on runc's); every other runtime must give runc's answer at each step.
#include "tests/lab/oci_lab_support.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <sys/prctl.h>
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

struct Runtime {
    std::string name;
    std::string binary;
};

// One step of the lifecycle: what the runtime answered, and what the spec (or runc) answers.
struct Answer {
    std::string step;
    std::string actual;
    std::string expected;
};

// Polls `ready` every 50 ms for up to `limit` (TCG: a guest boot or exit takes seconds).
template<typename Predicate>
bool wait_until(Predicate ready, std::chrono::milliseconds limit = 60s)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

// How the pid file's process ended, as waitpid() tells conmon and containerd's shim (the test is
// their subreaper, so the process is its child once `create` has returned).
std::string exit_of_process(pid_t pid)
{
    if (pid <= 0)
        return "no pid"; // waitpid(-1) would reap any child
    int status = 0;
    pid_t waited = 0;
    if (!wait_until([&] { return (waited = waitpid(pid, &status, WNOHANG)) != 0; }))
        return "still running after 60 s";
    if (waited != pid)
        return "not a child of the caller";
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exited " + std::to_string(WEXITSTATUS(status));
}

std::string one_line(std::string text)
{
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text.size() > 60 ? text.substr(0, 60) + "..." : text;
}

// shell() keeps stderr with stdout; a JSON answer needs stdout alone.
std::string stdout_only(std::string const& command) { return "{ " + command + " 2>/dev/null; }"; }

bool is_child_of_caller(pid_t pid)
{
    auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos)
        return false;
    char state = 0;
    int parent = 0;
    return sscanf(stat.c_str() + close + 1, " %c %d", &state, &parent) == 2 && state != 'Z' && parent == getpid();
}

// The whole lifecycle against one runtime, in a work directory of its own.
class Lifecycle {
public:
    Lifecycle(Runtime runtime, fs::path work)
        : m_runtime(std::move(runtime))
        , m_work(std::move(work))
    {
        fs::create_directories(m_work);
    }

    std::vector<Answer> run_all()
    {
        unknown_ids();
        long_running_container();
        container_that_exits();
        running_container_deleted_with_force();
        created_container_killed();
        created_container_deleted();
        return m_answers;
    }

    // A createRuntime hook: runc and crun run it with the state on its stdin; husk-oci refuses it.
    Outcome create_with_hook(fs::path const& hook_output)
    {
        auto hooks = nlohmann::ordered_json { { "createRuntime",
            { { { "path", "/bin/sh" }, { "args", { "sh", "-c", "cat > " + hook_output.string() } } } } } };
        auto bundle = make_bundle("lc-hook", { "sleep", "1000" }, hooks);
        return create("lc-hook", bundle, m_work / "lc-hook.pid");
    }

    std::string exit_of(std::string const& arguments) { return "exit " + std::to_string(shell(cli(arguments)).status); }

    std::string cli(std::string const& arguments) const
    {
        return m_runtime.binary + " --root " + (m_work / "state").string() + " " + arguments;
    }

    fs::path const& work() const { return m_work; }

private:
    void record(std::string step, std::string actual, std::string expected)
    {
        m_answers.push_back({ std::move(step), std::move(actual), std::move(expected) });
    }

    // A runc-style config.json (`runc spec` trimmed): namespaces, the usual kernel mounts, a
    // device cgroup that denies all, a few capabilities; husk-oci applies what a VM can.
    fs::path make_bundle(
        std::string const& id, std::vector<std::string> const& args, nlohmann::ordered_json hooks = nullptr)
    {
        auto bundle = m_work / ("bundle-" + id);
        auto rootfs = bundle / "rootfs";
        fs::create_directories(rootfs / "bin");
        fs::create_directories(rootfs / "tmp");
        fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
        for (auto const* applet : { "sh", "echo", "cat", "sleep", "true" })
            fs::create_symlink("busybox", rootfs / "bin" / applet);
        write_text(rootfs / "marker", "the rootfs of " + id + "\n");

        auto capabilities = nlohmann::ordered_json { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
        nlohmann::ordered_json config;
        config["ociVersion"] = "1.0.2";
        config["process"] = { { "terminal", false }, { "user", { { "uid", 0 }, { "gid", 0 } } }, { "args", args },
            { "env", { "PATH=/bin" } }, { "cwd", "/" },
            { "capabilities",
                { { "bounding", capabilities }, { "effective", capabilities }, { "permitted", capabilities } } },
            { "noNewPrivileges", true } };
        config["root"] = { { "path", "rootfs" }, { "readonly", false } };
        config["hostname"] = "lifecycle";
        config["mounts"] = nlohmann::json::array({
            { { "destination", "/proc" }, { "type", "proc" }, { "source", "proc" } },
            { { "destination", "/dev" }, { "type", "tmpfs" }, { "source", "tmpfs" },
                { "options", { "nosuid", "strictatime", "mode=755", "size=65536k" } } },
            { { "destination", "/dev/pts" }, { "type", "devpts" }, { "source", "devpts" },
                { "options", { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" } } },
            { { "destination", "/dev/shm" }, { "type", "tmpfs" }, { "source", "shm" },
                { "options", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } } },
            { { "destination", "/sys" }, { "type", "sysfs" }, { "source", "sysfs" },
                { "options", { "nosuid", "noexec", "nodev", "ro" } } },
        });
        config["linux"] = { { "namespaces",
                                { { { "type", "pid" } }, { { "type", "network" } }, { { "type", "ipc" } },
                                    { { "type", "uts" } }, { { "type", "mount" } } } },
            { "resources", { { "devices", { { { "allow", false }, { "access", "rwm" } } } } } } };
        if (!hooks.is_null())
            config["hooks"] = hooks;
        config["annotations"] = { { "io.husk.memory", "128M" } };
        write_text(bundle / "config.json", config.dump(2));
        return bundle;
    }

    // `create` with the container's stdio on a file: the container keeps create's stdio (as
    // conmon arranges it), so a pipe would never reach EOF.
    Outcome create(std::string const& id, fs::path const& bundle, fs::path const& pid_file)
    {
        auto output = m_work / (id + ".out");
        auto outcome = shell(cli("create --bundle " + bundle.string() + " --pid-file " + pid_file.string() + " " + id)
            + " < /dev/null > " + output.string());
        outcome.output = read_text(output);
        return outcome;
    }

    std::optional<nlohmann::json> state_json(std::string const& id)
    {
        auto outcome = shell(stdout_only(cli("state " + id)));
        if (outcome.status != 0)
            return std::nullopt;
        auto json = nlohmann::json::parse(outcome.output, nullptr, false);
        if (json.is_discarded() || !json.is_object())
            return nlohmann::json("not JSON: " + outcome.output);
        return json;
    }

    // "created, pid = pid file", "stopped, pid 0", or how `state` failed.
    std::string status_of(std::string const& id, pid_t pid_file_pid)
    {
        auto outcome = shell(stdout_only(cli("state " + id)));
        if (outcome.status != 0)
            return "state fails (exit " + std::to_string(outcome.status) + ")";
        auto json = nlohmann::json::parse(outcome.output, nullptr, false);
        if (json.is_discarded() || !json.contains("status") || !json["status"].is_string() || !json.contains("pid")
            || !json["pid"].is_number_integer())
            return "not a state: " + outcome.output;
        auto pid = json["pid"].get<long>();
        std::string pid_text = pid == pid_file_pid ? "pid = pid file"
            : pid == 0                             ? "pid 0"
                                                   : "pid " + std::to_string(pid) + ", not the pid file's";
        return json["status"].get<std::string>() + ", " + pid_text;
    }

    std::string wait_for_status(std::string const& id, std::string const& wanted, pid_t pid_file_pid)
    {
        wait_until([&] {
            auto json = state_json(id);
            return !json || (json->contains("status") && (*json)["status"] == wanted);
        });
        return status_of(id, pid_file_pid);
    }

    // The fields of the state JSON runc prints (the spec's, plus created and owner).
    std::string state_fields(std::string const& id, fs::path const& bundle)
    {
        auto json = state_json(id);
        if (!json || !json->is_object())
            return "no state JSON";
        std::string answer = "keys:";
        for (auto it = json->begin(); it != json->end(); ++it)
            answer += " " + it.key();
        auto text = [&](char const* key) {
            return json->contains(key) && (*json)[key].is_string() ? (*json)[key].get<std::string>() : "<missing>";
        };
        auto canonical_bundle = fs::canonical(bundle).string();
        answer += std::string("; ociVersion ") + (text("ociVersion").starts_with("1.") ? "1.x" : text("ociVersion"));
        answer += "; id " + std::string(text("id") == id ? "ok" : text("id"));
        answer += "; bundle " + std::string(text("bundle") == canonical_bundle ? "the bundle" : text("bundle"));
        answer += "; rootfs "
            + std::string(text("rootfs") == canonical_bundle + "/rootfs" ? "the bundle's rootfs" : text("rootfs"));
        static std::regex const rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d))");
        answer += "; created " + std::string(std::regex_match(text("created"), rfc3339) ? "RFC 3339" : text("created"));
        answer += "; owner \"" + text("owner") + "\"";
        bool kept = json->contains("annotations") && (*json)["annotations"].is_object()
            && (*json)["annotations"].value("io.husk.memory", "") == "128M";
        answer += std::string("; annotations ") + (kept ? "as in config.json" : "missing");
        return answer;
    }

    pid_t read_pid_file(fs::path const& pid_file, std::string* description = nullptr)
    {
        auto text = read_text(pid_file);
        bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (description)
            *description = digits ? "a decimal pid, no newline" : "\"" + text + "\"";
        return digits ? static_cast<pid_t>(std::stol(text)) : -1;
    }

    std::string file_in_rootfs(fs::path const& bundle, std::string const& name, bool wait)
    {
        auto path = bundle / "rootfs" / name;
        if (wait)
            wait_until([&] { return !read_text(path).empty(); });
        return fs::exists(path) ? "written: " + read_text(path) : "absent";
    }

    void unknown_ids()
    {
        record("state of an unknown id", exit_of("state lc-a"), "exit 1");
        record("start of an unknown id", exit_of("start lc-a"), "exit 1");
        record("kill of an unknown id", exit_of("kill lc-a KILL"), "exit 1");
        record("delete of an unknown id", exit_of("delete lc-a"), "exit 1");
        // runc: --force also clears what an aborted create may have left, so it never fails.
        record("delete --force of an unknown id", exit_of("delete --force lc-a"), "exit 0");
    }

    void long_running_container()
    {
        auto bundle = make_bundle("lc-a", { "sh", "-c",
            "trap 'echo usr1 > /got-usr1' USR1; echo started >> /started; while true; do sleep 0.1; done" });
        auto pid_file = m_work / "lc-a.pid";
        auto created = create("lc-a", bundle, pid_file);
        record("create", "exit " + std::to_string(created.status) + (created.status ? ": " + created.output : ""),
            "exit 0");
        std::string pid_text;
        pid_t pid = read_pid_file(pid_file, &pid_text);
        record("the pid file", pid_text, "a decimal pid, no newline");
        record("the pid file's process", is_child_of_caller(pid) ? "alive, a child of the caller" : "not a child",
            "alive, a child of the caller");
        record("state after create", status_of("lc-a", pid), "created, pid = pid file");
        record("state JSON fields", state_fields("lc-a", bundle),
            "keys: annotations bundle created id ociVersion owner pid rootfs status; ociVersion 1.x; id ok; bundle "
            "the bundle; rootfs the bundle's rootfs; created RFC 3339; owner \"\"; annotations as in config.json");
        record("process.args before start", file_in_rootfs(bundle, "started", false), "absent");
        // What `podman cp` into a running container relies on: the pid's mount namespace has the
        // container's root at "/" (runc's init pivoted into it; husk-oci's monitor mounted it there).
        auto seen = pid > 0 ? shell("nsenter -t " + std::to_string(pid) + " -m cat /marker") : Outcome { 1, "no pid" };
        record("/ in the pid's mount namespace", seen.output, "the rootfs of lc-a\n");

        record("a second create of the id", "exit " + std::to_string(create("lc-a", bundle, m_work / "dup.pid").status),
            "exit 1");
        record("state after the second create", status_of("lc-a", pid), "created, pid = pid file");

        record("start", exit_of("start lc-a"), "exit 0");
        record("process.args after start", file_in_rootfs(bundle, "started", true), "written: started\n");
        record("state after start", status_of("lc-a", pid), "running, pid = pid file");
        record("start of a running container", exit_of("start lc-a"), "exit 1");
        record("delete of a running container", exit_of("delete lc-a"), "exit 1");
        record("state after that delete", status_of("lc-a", pid), "running, pid = pid file");

        record("kill USR1", exit_of("kill lc-a USR1"), "exit 0");
        record("USR1 reaches the process", file_in_rootfs(bundle, "got-usr1", true), "written: usr1\n");
        record("kill KILL", exit_of("kill lc-a KILL"), "exit 0");
        record("the pid file's process after KILL", exit_of_process(pid), "killed by signal 9");
        record("state after KILL", wait_for_status("lc-a", "stopped", pid), "stopped, pid 0");

        auto before = shell(stdout_only(cli("state lc-a"))).output;
        record("kill of a stopped container", exit_of("kill lc-a KILL"), "exit 1");
        record("state after that kill", shell(stdout_only(cli("state lc-a"))).output == before ? "unchanged" : "changed",
            "unchanged");
        record("start of a stopped container", exit_of("start lc-a"), "exit 1");
        record("process.args after that start", file_in_rootfs(bundle, "started", false), "written: started\n");
        record("delete of a stopped container", exit_of("delete lc-a"), "exit 0");
        record("state after delete", status_of("lc-a", pid), "state fails (exit 1)");
        record("delete of a deleted container", exit_of("delete lc-a"), "exit 1");
    }

    void container_that_exits()
    {
        auto bundle = make_bundle("lc-b", { "sh", "-c", "exit 3" });
        auto pid_file = m_work / "lc-b.pid";
        record("create (exits 3)", "exit " + std::to_string(create("lc-b", bundle, pid_file).status), "exit 0");
        pid_t pid = read_pid_file(pid_file);
        record("start (exits 3)", exit_of("start lc-b"), "exit 0");
        record("the pid file's process after exit 3", exit_of_process(pid), "exited 3");
        record("state after exit 3", wait_for_status("lc-b", "stopped", pid), "stopped, pid 0");
        record("delete after exit 3", exit_of("delete lc-b"), "exit 0");
    }

    void running_container_deleted_with_force()
    {
        auto bundle = make_bundle("lc-c", { "sleep", "1000" });
        auto pid_file = m_work / "lc-c.pid";
        record("create (to delete --force)", "exit " + std::to_string(create("lc-c", bundle, pid_file).status),
            "exit 0");
        pid_t pid = read_pid_file(pid_file);
        record("start (to delete --force)", exit_of("start lc-c"), "exit 0");
        record("delete --force of a running container", exit_of("delete --force lc-c"), "exit 0");
        record("the pid file's process after delete --force", exit_of_process(pid), "killed by signal 9");
        record("state after delete --force", status_of("lc-c", pid), "state fails (exit 1)");
    }

    void created_container_killed()
    {
        auto bundle = make_bundle("lc-d", { "sleep", "1000" });
        auto pid_file = m_work / "lc-d.pid";
        record("create (to kill created)", "exit " + std::to_string(create("lc-d", bundle, pid_file).status),
            "exit 0");
        pid_t pid = read_pid_file(pid_file);
        record("kill KILL of a created container", exit_of("kill lc-d KILL"), "exit 0");
        record("the pid file's process after KILL while created", exit_of_process(pid), "killed by signal 9");
        record("state after KILL while created", wait_for_status("lc-d", "stopped", pid), "stopped, pid 0");
        record("delete after KILL while created", exit_of("delete lc-d"), "exit 0");
    }

    void created_container_deleted()
    {
        auto bundle = make_bundle("lc-e", { "sleep", "1000" });
        auto pid_file = m_work / "lc-e.pid";
        record("create (to delete created)", "exit " + std::to_string(create("lc-e", bundle, pid_file).status),
            "exit 0");
        pid_t pid = read_pid_file(pid_file);
        // The spec wants an error for a container that is not stopped; runc kills and deletes a
        // created one (podman and containerd's shim count on it when a start never comes).
        record("delete of a created container", exit_of("delete lc-e"), "exit 0");
        record("the pid file's process after delete while created", exit_of_process(pid), "killed by signal 9");
        record("state after delete while created", status_of("lc-e", pid), "state fails (exit 1)");
    }

    Runtime m_runtime;
    fs::path m_work;
    std::vector<Answer> m_answers;
};

fs::path work_root() { return fs::path("/tmp") / ("oci-lifecycle-" + std::to_string(getpid())); }

Runtime runtime_named(std::string const& name)
{
    if (name == "husk-oci")
        return { name, HUSK_OCI_PATH };
    // runc and crun come from Debian packages (packaging/setup.sh); a missing one fails the test.
    auto found = shell("command -v " + name);
    auto path = found.output.substr(0, found.output.find('\n'));
    return { name, found.status == 0 && !path.empty() ? path : "/nonexistent/" + name };
}

// Where crun departs from runc (husk-oci follows runc): its state JSON adds "systemd-scope", gives
// the rootfs as config.json writes it and names the owner. crun must give these answers instead.
std::string crun_answer(Answer const& runc_answer)
{
    if (runc_answer.step == "state JSON fields")
        return "keys: annotations bundle created id ociVersion owner pid rootfs status systemd-scope; ociVersion 1.x; "
               "id ok; bundle the bundle; rootfs rootfs; created RFC 3339; owner \"root\"; annotations as in "
               "config.json";
    return runc_answer.actual;
}

// runc's answers, taken once: every other runtime is compared with them.
std::vector<Answer> const& runc_answers()
{
    static std::optional<std::vector<Answer>> answers;
    if (!answers)
        answers = Lifecycle(runtime_named("runc"), work_root() / "runc").run_all();
    return *answers;
}

class OciLifecycle : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite()
    {
        // The pid file's process outlives `create`, as with conmon and the shim, which are
        // subreapers and waitpid() it: so is this test.
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    }

    static void TearDownTestSuite()
    {
        std::error_code ignored;
        fs::remove_all(work_root(), ignored);
    }
};

TEST_P(OciLifecycle, AnswersEveryStepAsRuncDoes)
{
    auto runtime = runtime_named(GetParam());
    ASSERT_TRUE(fs::exists(runtime.binary)) << runtime.name << " is not installed (packaging/setup.sh installs it)";
    auto const& reference = runc_answers();
    if (runtime.name == "runc") {
        for (auto const& answer : reference)
            printf("  %-50s runc: %s\n", answer.step.c_str(), one_line(answer.actual).c_str());
        for (auto const& answer : reference)
            EXPECT_EQ(answer.actual, answer.expected) << "runc, step \"" << answer.step << "\"";
        return;
    }
    auto answers = Lifecycle(runtime, work_root() / runtime.name).run_all();
    ASSERT_EQ(answers.size(), reference.size());
    // The whole transcript side by side, for the log (docs/oci.md quotes it).
    for (size_t i = 0; i < answers.size(); ++i)
        printf("  %-50s runc: %-28s %s: %s\n", answers[i].step.c_str(), one_line(reference[i].actual).c_str(),
            runtime.name.c_str(), one_line(answers[i].actual).c_str());
    for (size_t i = 0; i < answers.size(); ++i) {
        EXPECT_EQ(answers[i].actual, runtime.name == "crun" ? crun_answer(reference[i]) : reference[i].actual)
            << runtime.name << ", step \"" << answers[i].step << "\": runc answered \"" << reference[i].actual
            << "\" (the spec or runc's choice: \"" << reference[i].expected << "\")";
    }
}

// Hooks are where husk-oci must differ: they are programs of the host's runtime namespace run at
// points of a container's setup that a VM does not have, so husk-oci refuses a config.json that
// lists any (docs/oci.md) instead of running them at the wrong time or not at all.
TEST_P(OciLifecycle, HooksRunByRuncAreRefusedByHuskOci)
{
    auto runtime = runtime_named(GetParam());
    ASSERT_TRUE(fs::exists(runtime.binary)) << runtime.name << " is not installed (packaging/setup.sh installs it)";
    Lifecycle lifecycle(runtime, work_root() / (runtime.name + "-hooks"));
    auto hook_output = lifecycle.work() / "hook-state.json";
    auto created = lifecycle.create_with_hook(hook_output);
    if (runtime.name == "husk-oci") {
        EXPECT_EQ(created.status, 1) << created.output;
        EXPECT_NE(created.output.find("hooks.createRuntime"), std::string::npos) << created.output;
        EXPECT_FALSE(fs::exists(hook_output)) << "the hook never ran";
        EXPECT_EQ(lifecycle.exit_of("state lc-hook"), "exit 1") << "nothing was created";
        EXPECT_FALSE(fs::exists(lifecycle.work() / "state/lc-hook"));
        return;
    }
    ASSERT_EQ(created.status, 0) << created.output;
    // The hook gets the container's state on its stdin (runtime spec, "Lifecycle"): "creating"
    // from runc, as the spec says; crun already says "created".
    auto state = nlohmann::json::parse(read_text(hook_output), nullptr, false);
    ASSERT_FALSE(state.is_discarded()) << read_text(hook_output);
    EXPECT_EQ(state.value("id", ""), "lc-hook");
    EXPECT_EQ(state.value("status", ""), runtime.name == "crun" ? "created" : "creating");
    EXPECT_EQ(lifecycle.exit_of("delete --force lc-hook"), "exit 0");
}

INSTANTIATE_TEST_SUITE_P(Runtimes, OciLifecycle, ::testing::Values("runc", "husk-oci", "crun"),
    [](auto const& info) {
        std::string name = info.param;
        std::erase(name, '-');
        return name;
    });

} // namespace

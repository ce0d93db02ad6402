// husk-oci's small pieces: signal names, the guest PATH lookup with runc's error words, the log
// line formats and the container's sandbox settings.
#include "sdk/oci/guest_executable.hpp"
#include "sdk/oci/oci_log.hpp"
#include "sdk/oci/sandbox_settings.hpp"
#include "sdk/oci/signal_name.hpp"

#include "tests/unit/testing/scratch_dir.hpp"

#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace husk::oci {
namespace {

    // A fake guest filesystem for the lookup: path → (type, mode).
    GuestLookup fake_guest(std::map<std::string, FileInfo> files)
    {
        return [files](std::string const& path) -> std::optional<FileInfo> {
            auto it = files.find(path);
            return it == files.end() ? std::nullopt : std::optional<FileInfo>(it->second);
        };
    }

    FileInfo file(uint32_t mode, FileType type = FileType::Regular) { return FileInfo { type, 10, mode, {} }; }

} // namespace

TEST(SignalName, ParsesNumbersNamesAndRealtimeSignals)
{
    EXPECT_EQ(parse_signal("9").value(), SIGKILL);
    EXPECT_EQ(parse_signal("KILL").value(), SIGKILL);
    EXPECT_EQ(parse_signal("SIGKILL").value(), SIGKILL);
    EXPECT_EQ(parse_signal("sigterm").value(), SIGTERM);
    EXPECT_EQ(parse_signal("usr1").value(), SIGUSR1);
    EXPECT_EQ(parse_signal("WINCH").value(), SIGWINCH);
    EXPECT_EQ(parse_signal("RTMIN").value(), SIGRTMIN);
    EXPECT_EQ(parse_signal("SIGRTMIN+2").value(), SIGRTMIN + 2);
    EXPECT_EQ(parse_signal("RTMAX-1").value(), SIGRTMAX - 1);
    for (auto const* bad : { "", "0", "-9", "65", "99999999999", "KILLX", "SIG", "RTMIN+99", "RTMIN-1", "RTMAX+1", "9x",
             " 9" })
        EXPECT_FALSE(parse_signal(bad)) << bad;
    EXPECT_EQ(parse_signal("BOGUS").error().message, "invalid signal: BOGUS");
}

TEST(GuestExecutable, SearchesPathLikeExecvp)
{
    auto guest = fake_guest({ { "/bin/sh", file(0755) }, { "/usr/bin/tool", file(0644) }, { "/bin/tool", file(0755) },
        { "/sbin/link", file(0777, FileType::Symlink) }, { "/work/./run.sh", file(0700) }, { "/etc", file(0755, FileType::Directory) },
        { "/data/plain", file(0600) } });
    std::vector<std::string> env { "PATH=/usr/bin:/bin:/sbin" };
    EXPECT_EQ(resolve_guest_executable("sh", "/", env, guest).value(), "/bin/sh");
    EXPECT_EQ(resolve_guest_executable("tool", "/", env, guest).value(), "/bin/tool") << "skips a non-executable match";
    EXPECT_EQ(resolve_guest_executable("link", "/", env, guest).value(), "/sbin/link");
    EXPECT_EQ(resolve_guest_executable("/bin/sh", "/", {}, guest).value(), "/bin/sh");
    EXPECT_EQ(resolve_guest_executable("./run.sh", "/work", env, guest).value(), "/work/./run.sh");
    EXPECT_EQ(resolve_guest_executable("sh", "/", {}, guest).value(), "/bin/sh") << "runc's default PATH";

    auto missing = resolve_guest_executable("nosuch", "/", env, guest);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "exec: \"nosuch\": executable file not found in $PATH");
    auto absolute_missing = resolve_guest_executable("/bin/nosuch", "/", env, guest);
    EXPECT_EQ(absolute_missing.error().message, "exec: \"/bin/nosuch\": stat /bin/nosuch: no such file or directory");
    EXPECT_EQ(resolve_guest_executable("/data/plain", "/", env, guest).error().message,
        "exec: \"/data/plain\": permission denied");
    EXPECT_EQ(resolve_guest_executable("/etc", "/", env, guest).error().message, "exec: \"/etc\": permission denied");
    auto only_denied = resolve_guest_executable("tool", "/", { "PATH=/usr/bin" }, guest);
    EXPECT_EQ(only_denied.error().message, "exec: \"tool\": permission denied");
    EXPECT_FALSE(resolve_guest_executable("sh", "/", { "PATH=relative:" }, guest)) << "relative PATH entries are skipped";
}

TEST(OciLog, JsonLinesCarryLevelMessageAndTime)
{
    auto line = OciLog::format_line(LogFormat::Json, "error", "exec: \"x\": executable file not found in $PATH");
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one object per line";
    auto json = nlohmann::json::parse(line);
    EXPECT_EQ(json["level"], "error");
    EXPECT_EQ(json["msg"], "exec: \"x\": executable file not found in $PATH");
    EXPECT_EQ(json["time"].get<std::string>().back(), 'Z');
    auto multi = OciLog::format_line(LogFormat::Json, "error", "two\nlines");
    EXPECT_EQ(multi.find('\n'), multi.size() - 1) << "newlines inside a message are escaped";
    auto text = OciLog::format_line(LogFormat::Text, "warning", "careful");
    EXPECT_NE(text.find(" warning: careful\n"), std::string::npos) << text;
}

TEST(OciLog, AppendsToTheLogFile)
{
    test_support::ScratchDir scratch("oci-log");
    OciLog::configure(scratch / "log", LogFormat::Json);
    OciLog::warning("first");
    OciLog::info("second");
    OciLog::configure("", LogFormat::Text);
    std::ifstream in(scratch / "log");
    std::string one, two;
    std::getline(in, one);
    std::getline(in, two);
    EXPECT_EQ(nlohmann::json::parse(one)["msg"], "first");
    EXPECT_EQ(nlohmann::json::parse(two)["level"], "info");
}

TEST(SandboxSettings, ReadonlyRoot_LeavesTheDirectoryUnchanged)
{
    OciConfig config;
    config.process.args = { "x" };
    config.root_readonly = true;
    auto options = sandbox_options_for(config, "/img");
    ASSERT_TRUE(options.has_value());
    EXPECT_EQ(options->rootfs_writes, RootfsWrites::Private);
    EXPECT_EQ(options->rootfs_owners, ShareOwners::Guest);
}

TEST(SandboxSettings, SizesTheVmFromResourcesAndAnnotations)
{
    OciConfig config;
    config.process.args = { "x" };
    auto options = sandbox_options_for(config, "/img");
    ASSERT_TRUE(options.has_value());
    EXPECT_EQ(options->rootfs_dir, "/img");
    // runc's semantics: written in place, owned by the container's users.
    EXPECT_EQ(options->rootfs_writes, RootfsWrites::InPlace);
    EXPECT_EQ(options->rootfs_owners, ShareOwners::Guest);
    EXPECT_TRUE(options->rootfs_path.empty());
    EXPECT_EQ(options->vcpus, 1u);
    config.memory_limit = 16ull << 20;
    config.cpu_quota = 250000;
    config.cpu_period = 100000;
    options = sandbox_options_for(config, "/img");
    EXPECT_EQ(options->memory_bytes, min_container_memory) << "too small a VM would not boot";
    EXPECT_EQ(options->vcpus, 3u) << "2.5 CPUs round up";
    config.annotations = { { vcpus_annotation, "2" }, { memory_annotation, "1G" }, { boot_timeout_annotation, "90s" } };
    options = sandbox_options_for(config, "/img");
    EXPECT_EQ(options->vcpus, 2u);
    EXPECT_EQ(options->memory_bytes, 1ull << 30);
    EXPECT_EQ(options->boot_timeout, std::chrono::seconds(90));
    config.annotations = { { vcpus_annotation, "0" } };
    EXPECT_EQ(sandbox_options_for(config, "/img").error().message, "io.husk.vcpus: expected 1..32, got \"0\"");
    config.annotations = { { memory_annotation, "lots" } };
    EXPECT_FALSE(sandbox_options_for(config, "/img"));

    config.process.env = { "A=1" };
    config.process.cwd = "/w";
    config.process.user.uid = 7;
    config.process.user.gid = 8;
    auto job = start_options_for(config.process);
    EXPECT_EQ(job.env, config.process.env);
    EXPECT_EQ(job.workdir, "/w");
    EXPECT_EQ(job.uid, 7u);
    EXPECT_EQ(job.gid, 8u);
}

} // namespace husk::oci

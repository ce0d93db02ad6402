// config.json and process.json parsing: the fields husk-oci honours, and malformed bundles
// refused with the field's path in the message.
#include "sdk/oci/oci_config.hpp"

#include "tests/unit/testing/scratch_dir.hpp"

#include <gtest/gtest.h>

namespace husk::oci {
namespace {

    // A config as podman writes it, trimmed: what the parser must accept.
    constexpr char const* podman_like = R"({
      "ociVersion": "1.0.2-dev",
      "process": {
        "terminal": false,
        "user": { "uid": 1000, "gid": 100, "additionalGids": [10, 20] },
        "args": ["sh", "-c", "echo hi"],
        "env": ["PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="],
        "cwd": "/work",
        "capabilities": { "bounding": ["CAP_CHOWN"] },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576 }],
        "noNewPrivileges": true
      },
      "root": { "path": "/var/lib/containers/storage/vfs/dir/abc", "readonly": true },
      "hostname": "box",
      "mounts": [{ "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"] }],
      "annotations": { "io.husk.vcpus": "2", "org.opencontainers.image.stopSignal": "15" },
      "linux": {
        "resources": { "memory": { "limit": 536870912, "swap": 536870912 }, "cpu": { "quota": 150000, "period": 100000 } },
        "cgroupsPath": "machine.slice:libpod:abc",
        "namespaces": [{ "type": "pid" }, { "type": "network" }],
        "seccomp": { "defaultAction": "SCMP_ACT_ERRNO" }
      },
      "hooks": { "prestart": [] }
    })";

    Error parse_error(std::string const& json)
    {
        auto parsed = parse_oci_config(json);
        EXPECT_FALSE(parsed.has_value()) << json;
        return parsed ? Error {} : parsed.error();
    }

    std::string with_process(std::string const& process)
    {
        return R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":)" + process + "}";
    }

} // namespace

TEST(OciConfig, ParsesWhatPodmanWrites)
{
    auto config = parse_oci_config(podman_like);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->oci_version, "1.0.2-dev");
    EXPECT_EQ(config->process.args, (std::vector<std::string> { "sh", "-c", "echo hi" }));
    EXPECT_EQ(config->process.env.size(), 3u);
    EXPECT_EQ(config->process.cwd, "/work");
    EXPECT_EQ(config->process.user.uid, 1000u);
    EXPECT_EQ(config->process.user.gid, 100u);
    EXPECT_EQ(config->process.user.additional_gids, (std::vector<uint32_t> { 10, 20 }));
    EXPECT_TRUE(config->process.no_new_privileges);
    EXPECT_FALSE(config->process.terminal);
    EXPECT_EQ(config->root_path, "/var/lib/containers/storage/vfs/dir/abc");
    EXPECT_TRUE(config->root_readonly);
    EXPECT_EQ(config->hostname, "box");
    EXPECT_EQ(config->annotations.at("io.husk.vcpus"), "2");
    EXPECT_EQ(config->memory_limit, 536870912u);
    EXPECT_EQ(config->cpu_quota, 150000);
    EXPECT_EQ(config->cpu_period, 100000u);
    EXPECT_EQ(config->cgroups_path, "machine.slice:libpod:abc");
    EXPECT_TRUE(config->unsupported_fields.empty()) << "empty hook lists ask for nothing";
    EXPECT_FALSE(config->network_namespace) << "a network entry without a path is a new, empty namespace";
}

TEST(OciConfig, NetworkNamespacePathIsKept)
{
    auto config = parse_oci_config(R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["x"],"cwd":"/"},
        "linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/netns-1"},{"type":"mount"}]}})");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->network_namespace, "/run/netns/netns-1");
}

TEST(OciConfig, RefusesMalformedNamespaces)
{
    auto with_linux = [](std::string const& linux_text) {
        return R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["x"],"cwd":"/"},"linux":)" + linux_text
            + "}";
    };
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":{"type":"network"}})")).message,
        "linux.namespaces: expected an array");
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":[{"path":"/run/netns/x"}]})")).message,
        "linux.namespaces[0].type: missing");
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":[{"type":"network","path":"netns/x"}]})")).message,
        "linux.namespaces[0].path: must be an absolute path");
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":[{"type":"network","path":7}]})")).message,
        "linux.namespaces[0].path: expected a string, got number");
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":[{"type":"network","path":"/a"},{"type":"network","path":"/b"}]})"))
                  .message,
        "linux.namespaces[1].type: a second network namespace");
    EXPECT_EQ(parse_error(with_linux(R"({"namespaces":["network"]})")).message,
        "linux.namespaces[0]: expected an object, got string");
}

TEST(OciConfig, UnlimitedMemoryAndMissingCpuPeriodSetNothing)
{
    auto config = parse_oci_config(R"({"ociVersion":"1.0.0","root":{"path":"r"},"process":{"args":["x"],"cwd":"/"},
        "linux":{"resources":{"memory":{"limit":-1},"cpu":{"quota":-1}}}})");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_FALSE(config->memory_limit);
    EXPECT_FALSE(config->cpu_quota);
}

TEST(OciConfig, HooksAreReportedAsUnsupported)
{
    auto config = parse_oci_config(R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["x"],"cwd":"/"},
        "hooks":{"prestart":[{"path":"/bin/true"}],"poststop":[]}})");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(config->unsupported_fields, (std::vector<std::string> { "hooks.prestart" }));
}

TEST(OciConfig, RefusesMalformedDocuments)
{
    EXPECT_EQ(parse_error("").message, "config.json: not valid JSON");
    EXPECT_EQ(parse_error("{").message, "config.json: not valid JSON");
    EXPECT_EQ(parse_error("{\"a\":1} trailing").message, "config.json: not valid JSON");
    EXPECT_EQ(parse_error("/* comment */ {}").message, "config.json: not valid JSON");
    EXPECT_EQ(parse_error("[]").message, "document: expected an object, got array");
    EXPECT_EQ(parse_error("{}").message, "ociVersion: missing");
    EXPECT_EQ(parse_error(R"({"ociVersion":2})").message, "ociVersion: expected a string, got number");
    EXPECT_EQ(parse_error(R"({"ociVersion":"0.9"})").message, "ociVersion: 0.9 is not a 1.x runtime-spec version");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","root":{"path":"r"}})").message,
        "process: missing (husk-oci has nothing to run without it)");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"}})").message, "root: missing");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":""}})").message,
        "root.path: empty or contains a NUL byte");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":"r"},
        "annotations":{"a":1}})").message,
        "annotations.a: expected a string, got number");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":"r"},
        "mounts":[{"destination":"relative"}]})").message,
        "mounts[0].destination: must be an absolute path");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":"r"},
        "linux":{"resources":{"memory":{"limit":"1G"}}}})").message,
        "linux.resources.memory.limit: expected an integer, got string");
    EXPECT_EQ(parse_error(R"({"ociVersion":"1.0.2","process":{"args":["x"],"cwd":"/"},"root":{"path":"r"},
        "hooks":{"prestart":{}}})").message,
        "hooks.prestart: expected an array");
}

TEST(OciConfig, RefusesMalformedProcesses)
{
    EXPECT_EQ(parse_error(with_process(R"({"cwd":"/"})")).message, "process.args: missing or empty");
    EXPECT_EQ(parse_error(with_process(R"({"args":[],"cwd":"/"})")).message, "process.args: missing or empty");
    EXPECT_EQ(parse_error(with_process(R"({"args":[""],"cwd":"/"})")).message, "process.args[0]: empty");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a",1],"cwd":"/"})")).message,
        "process.args[1]: expected a string, got number");
    EXPECT_EQ(parse_error(with_process(R"({"args":"sh","cwd":"/"})")).message,
        "process.args: expected an array of strings, got string");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a\u0000b"],"cwd":"/"})")).message,
        "process.args: an argument contains a NUL byte");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"]})")).message, "process.cwd: missing");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"work"})")).message,
        "process.cwd: must be an absolute path");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","env":["NOEQUALS"]})")).message,
        "process.env: \"NOEQUALS\" is not NAME=value");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","env":["=x"]})")).message,
        "process.env: \"=x\" is not NAME=value");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","user":{"uid":-1}})")).message,
        "process.user.uid: must not be negative");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","user":{"uid":4294967295}})")).message,
        "process.user.uid: 4294967295 is above 4294967294");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","user":{"uid":1.5}})")).message,
        "process.user.uid: expected an integer, got number");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","user":{"username":"root"}})")).message,
        "process.user.username: not supported (Windows only)");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","user":{"additionalGids":[-3]}})")).message,
        "process.user.additionalGids: expected group ids");
    EXPECT_EQ(parse_error(with_process(R"({"args":["a"],"cwd":"/","terminal":"yes"})")).message,
        "process.terminal: expected a boolean, got string");
}

TEST(OciConfig, ParsesExecProcessFiles)
{
    auto process = parse_oci_process(R"({"args":["ls","-l"],"cwd":"/tmp","terminal":true,"env":null})");
    ASSERT_TRUE(process.has_value()) << process.error().message;
    EXPECT_EQ(process->args, (std::vector<std::string> { "ls", "-l" }));
    EXPECT_EQ(process->cwd, "/tmp");
    EXPECT_TRUE(process->terminal);
    EXPECT_TRUE(process->env.empty());
    EXPECT_FALSE(parse_oci_process("[]"));
    EXPECT_FALSE(parse_oci_process(R"({"args":["ls"]})"));
    EXPECT_FALSE(parse_oci_process(std::string(max_config_bytes + 1, ' ')));
}

TEST(OciConfig, LoadsABundleAndResolvesItsRoot)
{
    test_support::ScratchDir bundle("oci-config");
    EXPECT_FALSE(load_bundle_config(bundle.path())) << "no config.json";
    bundle.write("config.json", R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["x"],"cwd":"/"}})");
    auto config = load_bundle_config(bundle.path());
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ(rootfs_directory(bundle.path(), *config), bundle / "rootfs");
    config->root_path = "/elsewhere";
    EXPECT_EQ(rootfs_directory(bundle.path(), *config), "/elsewhere");
    bundle.write("config.json", R"({"ociVersion":"1.0.2"})");
    auto broken = load_bundle_config(bundle.path());
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().message, bundle / "config.json" + ": process: missing (husk-oci has nothing to run without it)");
}

} // namespace husk::oci

// Sandbox::create without a VM: option checks, a husk-vmm that fails or never answers (scripts
// standing in for it), and cleanup of the child and its directory.
#include "tests/unit/testing/scratch_dir.hpp"
#include "husk/sandbox.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {
namespace {

    using namespace std::chrono_literals;

    class SandboxCreate : public ::testing::Test {
    protected:
        void SetUp() override
        {
            options.kernel_path = file("vmlinux", "kernel");
            options.initrd_path = file("initramfs.cpio", "initrd");
            // The fake husk-vmm scripts cannot jail; jailed creation runs in the lab
            // (tests/lab/sdk_jail_lab_test.cpp), never against this host's /run and cgroups.
            options.jail = JailMode::Off;
        }
        std::string file(std::string const& name, std::string const& contents, mode_t mode = 0644)
        {
            return scratch.write(name, contents, mode);
        }
        std::string script(std::string const& body) { return file("fake-vmm", "#!/bin/sh\n" + body + "\n", 0755); }

        test_support::ScratchDir scratch { "husk-create-test" };
        std::string const dir { scratch.path() };
        SandboxOptions options;
    };

    TEST_F(SandboxCreate, BadOptions_AreBadConfig)
    {
        options.vmm_path = script("exit 0");
        auto with = [&](auto change) {
            auto changed = options;
            change(changed);
            auto created = Sandbox::create(changed);
            EXPECT_FALSE(created);
            return created ? ErrorKind::Other : created.error().kind;
        };

        EXPECT_EQ(with([](SandboxOptions& o) { o.vcpus = 0; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.vcpus = 33; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.memory_bytes = 1 << 20; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.memory_bytes = (256 << 20) + 1; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.workdir = "relative"; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.env = { "=x" }; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.kernel_path = "/no/kernel"; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.vmm_path = "/no/husk-vmm"; }), ErrorKind::BadConfig);
        EXPECT_EQ(with([](SandboxOptions& o) { o.boot_timeout = 0ms; }), ErrorKind::BadConfig);
    }

    TEST_F(SandboxCreate, BadNetworkOptions_AreBadConfig)
    {
        options.vmm_path = script("exit 0");
        auto message = [&](auto change) {
            auto changed = options;
            change(changed);
            auto created = Sandbox::create(changed);
            EXPECT_FALSE(created);
            EXPECT_EQ(created ? ErrorKind::Other : created.error().kind, ErrorKind::BadConfig);
            return created ? std::string() : created.error().message;
        };
        EXPECT_NE(message([](SandboxOptions& o) { o.network = "bridge"; }).find("none, internet or allow=LIST"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.network = "allow=1.2.3.4 --jail"; }).find("allow=LIST"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.publish = { { 8080, 80 } }; }).find("need a network"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.dns_servers = { "198.18.0.53" }; }).find("need a network"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) {
            o.network = "internet";
            o.publish = { { 8080, 80 }, { 8080, 81 } };
        }).find("published twice"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) {
            o.network = "internet";
            o.publish = { { 0, 80 } };
        }).find("1..65535"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) {
            o.network = "internet";
            o.dns_servers = { "dns.example" };
        }).find("IPv4"),
            std::string::npos);
        for (char const* malformed : { "1.2.3", "256.1.1.1", "1..2.3", "" }) {
            EXPECT_NE(message([malformed](SandboxOptions& o) {
                o.network = "internet";
                o.dns_servers = { malformed };
            }).find("IPv4"),
                std::string::npos)
                << malformed;
        }
        // JailMode::Off here: the network would come from passt, which enforces no allow-list.
        EXPECT_NE(message([](SandboxOptions& o) { o.network = "allow=198.51.100.0/24"; }).find("cannot be enforced"),
            std::string::npos);
    }

    TEST_F(SandboxCreate, BadTapNetwork_IsBadConfigSayingWhy)
    {
        options.vmm_path = script("exit 0");
        auto message = [&](auto change) {
            auto changed = options;
            changed.tap_network = TapNetwork { "/run/netns/ctr", "husk-tap0", "02:00:00:00:00:01", "10.88.0.5/16",
                "10.88.0.1" };
            change(changed);
            auto created = Sandbox::create(changed);
            EXPECT_FALSE(created);
            EXPECT_EQ(created ? ErrorKind::Other : created.error().kind, ErrorKind::BadConfig);
            return created ? std::string() : created.error().message;
        };
        // JailMode::Off here: the VMM could not join the namespace.
        EXPECT_NE(message([](SandboxOptions&) {}).find("needs the jail"), std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.network = "internet"; }).find("must be \"none\""), std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.tap_network->netns = "netns/ctr"; }).find("absolute"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.tap_network->tap = "tap0,mac=02:00:00:00:00:02"; }).find("plain"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.tap_network->address = "10.88.0.5"; }).find("ADDR/PREFIX"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.tap_network->gateway = "10.88.0.1 husk.root=/dev/vda"; })
                      .find("plain"),
            std::string::npos);
    }

    TEST_F(SandboxCreate, MissingRootfs_IsBadConfigNamingIt)
    {
        options.vmm_path = script("exit 0");
        options.rootfs_path = "/no/such/root.ext4";

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(created.error().message.find("/no/such/root.ext4"), std::string::npos);
    }

    TEST_F(SandboxCreate, RootfsNameNotInTheAssets_IsBadConfigNamingTheLookup)
    {
        options.vmm_path = script("exit 0");
        options.rootfs_path = "no-such-image";

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(created.error().message.find("no-such-image.ext4"), std::string::npos) << created.error().message;
    }

    TEST_F(SandboxCreate, RootfsWithComma_IsBadConfig)
    {
        options.vmm_path = script("exit 0");
        options.rootfs_path = file("a,b.ext4", "");

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
    }

    TEST_F(SandboxCreate, RequiredJailWithoutRoot_FailsWithBadConfigBeforeStarting)
    {
        if (geteuid() == 0)
            GTEST_SKIP() << "as root the jail is possible";
        auto started = file("started", "");
        options.vmm_path = script("echo yes > " + started + "; exit 0");
        options.jail = JailMode::Required;

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(created.error().message.find("the jail is required"), std::string::npos) << created.error().message;
        EXPECT_EQ(std::filesystem::file_size(started), 0u) << "husk-vmm was started anyway";
    }

    TEST_F(SandboxCreate, JailOff_PassesNoJailArguments)
    {
        auto seen = file("argv", "");
        options.vmm_path = script("printf '%s\\n' \"$@\" > " + seen + "; exit 0");

        (void)Sandbox::create(options);

        std::ifstream in(seen);
        std::string argv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_NE(argv.find("--vsock\n"), std::string::npos) << argv;
        EXPECT_EQ(argv.find("--jail"), std::string::npos) << argv;
    }

    TEST_F(SandboxCreate, Rootfs_IsPassedToTheVmmAsAReadOnlyFirstDisk)
    {
        auto seen = file("argv", "");
        options.vmm_path = script("printf '%s\\n' \"$@\" > " + seen + "; exit 0");
        options.rootfs_path = file("root.ext4", "");

        (void)Sandbox::create(options);

        std::ifstream in(seen);
        std::string argv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_NE(argv.find("--disk\n" + options.rootfs_path + ",ro\n"), std::string::npos) << argv;
        EXPECT_NE(argv.find("--cmdline\nhusk.root=/dev/vda\n"), std::string::npos) << argv;
    }

    TEST_F(SandboxCreate, RootfsDir_IsPassedToTheVmmAsItsRootfsOption)
    {
        auto seen = file("argv", "");
        options.vmm_path = script("printf '%s\\n' \"$@\" > " + seen + "; exit 0");
        auto root = scratch.path() + "/root";
        std::filesystem::create_directory(root);
        auto argv_with = [&](RootfsWrites writes) {
            options.rootfs_dir = root;
            options.rootfs_writes = writes;
            (void)Sandbox::create(options);
            std::ifstream in(seen);
            return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        };

        auto read_only = argv_with(RootfsWrites::Private);
        auto in_place = argv_with(RootfsWrites::InPlace);

        EXPECT_NE(read_only.find("--rootfs\n" + root + "\n"), std::string::npos) << read_only;
        EXPECT_EQ(read_only.find("husk.root"), std::string::npos) << "husk-vmm names the root itself: " << read_only;
        EXPECT_EQ(read_only.find("--disk"), std::string::npos) << read_only;
        EXPECT_NE(in_place.find("--rootfs\n" + root + ",rw\n"), std::string::npos) << in_place;
    }

    TEST_F(SandboxCreate, RootfsDirMisused_IsBadConfigSayingWhy)
    {
        options.vmm_path = script("exit 0");
        auto root = scratch.path() + "/root";
        std::filesystem::create_directory(root);
        auto message = [&](auto change) {
            auto changed = options;
            change(changed);
            auto created = Sandbox::create(changed);
            EXPECT_FALSE(created);
            if (created)
                return std::string();
            EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
            return created.error().message;
        };

        EXPECT_NE(message([&](SandboxOptions& o) {
            o.rootfs_dir = root;
            o.rootfs_path = "debian-python";
        }).find("not both"),
            std::string::npos);
        EXPECT_NE(
            message([](SandboxOptions& o) { o.rootfs_dir = "relative/root"; }).find("absolute"), std::string::npos);
        EXPECT_NE(message([&](SandboxOptions& o) { o.rootfs_dir = root + ",rw"; }).find("comma"), std::string::npos);
        EXPECT_NE(message([&](SandboxOptions& o) { o.rootfs_dir = root + "/missing"; }).find("not a directory"),
            std::string::npos);
        EXPECT_NE(message([&](SandboxOptions& o) { o.rootfs_dir = file("plain", ""); }).find("not a directory"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.rootfs_writes = RootfsWrites::InPlace; }).find("rootfs_dir"),
            std::string::npos);
        EXPECT_NE(message([](SandboxOptions& o) { o.rootfs_owners = ShareOwners::Guest; }).find("rootfs_dir"),
            std::string::npos);
        // JailMode::Off here: the guest's owners need the jail.
        EXPECT_NE(message([&](SandboxOptions& o) {
            o.rootfs_dir = root;
            o.rootfs_owners = ShareOwners::Guest;
        }).find("needs the jail"),
            std::string::npos);
        EXPECT_NE(message([&](SandboxOptions& o) {
            o.mounts.push_back(Mount { root, "/data", false, ShareOwners::Guest });
        }).find("needs the jail"),
            std::string::npos);
        EXPECT_NE(message([&](SandboxOptions& o) {
            o.rootfs_dir = root;
            for (int i = 0; i < 8; ++i)
                o.mounts.push_back(Mount { root, "/m" + std::to_string(i), true });
        }).find("at most 7 mounts"),
            std::string::npos);
    }

    TEST_F(SandboxCreate, VmmExitsAtOnce_IsVmmStartFailedWithItsLog)
    {
        options.vmm_path = script("echo 'husk-vmm: cannot open /dev/kvm: permission denied' >&2; exit 1");

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::VmmStartFailed);
        EXPECT_NE(created.error().message.find("status 1 (VMM error)"), std::string::npos) << created.error().message;
        EXPECT_NE(created.error().message.find("cannot open /dev/kvm"), std::string::npos) << created.error().message;
    }

    TEST_F(SandboxCreate, VmmGetsTheSandboxOptions)
    {
        auto seen = dir + "/argv";
        options.vmm_path = script("echo \"$@\" > " + seen + "; exit 1");
        options.vcpus = 2;
        options.memory_bytes = 64 << 20;
        options.lifetime = 90s;

        (void)Sandbox::create(options);
        std::ifstream in(seen);
        std::string argv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

        EXPECT_NE(argv.find("--kernel " + options.kernel_path), std::string::npos) << argv;
        EXPECT_NE(argv.find("--initrd " + options.initrd_path), std::string::npos) << argv;
        EXPECT_NE(argv.find("--vcpus 2"), std::string::npos) << argv;
        EXPECT_NE(argv.find("--memory 67108864"), std::string::npos) << argv;
        EXPECT_NE(argv.find("--timeout 90000ms"), std::string::npos) << argv;
        EXPECT_NE(argv.find("--vsock /"), std::string::npos) << argv;
        EXPECT_NE(argv.find("--serial none"), std::string::npos) << argv;
    }

    TEST_F(SandboxCreate, SilentVmm_IsGuestNotReadyAndIsKilledWithItsDirectory)
    {
        auto pid_file = dir + "/pid";
        auto args_file = dir + "/args";
        options.vmm_path = script("echo $$ > " + pid_file + "; echo \"$@\" > " + args_file + "; exec sleep 60");
        options.boot_timeout = 300ms;
        auto started = std::chrono::steady_clock::now();

        auto created = Sandbox::create(options);
        auto elapsed = std::chrono::steady_clock::now() - started;

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::GuestNotReady);
        EXPECT_LT(elapsed, 4s);
        pid_t pid = 0;
        std::ifstream(pid_file) >> pid;
        ASSERT_GT(pid, 0);
        EXPECT_NE(kill(pid, 0), 0) << "the fake husk-vmm is still running";
        std::string args;
        std::getline(std::ifstream(args_file), args);
        auto at = args.find("--vsock ");
        ASSERT_NE(at, std::string::npos);
        auto socket = args.substr(at + 8, args.find(' ', at + 8) - at - 8);
        EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(socket).parent_path())) << socket;
    }

    TEST_F(SandboxCreate, NotExecutableVmm_IsBadConfig)
    {
        options.vmm_path = file("vmm-data", "x", 0644);

        auto created = Sandbox::create(options);

        ASSERT_FALSE(created);
        EXPECT_EQ(created.error().kind, ErrorKind::BadConfig);
    }

} // namespace
} // namespace husk

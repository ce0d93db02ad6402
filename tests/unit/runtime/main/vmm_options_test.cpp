// husk-vmm option parsing: accepted forms and every rejection path.
#include "runtime/main/vmm_options.hpp"

#include <gtest/gtest.h>
#include <initializer_list>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;

namespace {
Result<VmmOptions> parse(std::initializer_list<char const*> arguments)
{
    std::vector<char const*> argv { "husk-vmm" };
    argv.insert(argv.end(), arguments);
    return parse_vmm_options(argv);
}

void expect_rejected(std::initializer_list<char const*> arguments, std::string const& fragment)
{
    auto result = parse(arguments);
    ASSERT_FALSE(result.has_value()) << "accepted although it should mention: " << fragment;
    EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
    EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << "error must be one line";
}
} // namespace

TEST(ParseVmmOptions, KernelOnly_GivesDefaults)
{
    auto options = parse({ "--kernel", "vmlinux" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->kernel_path, "vmlinux");
    EXPECT_FALSE(options->initrd_path);
    EXPECT_EQ(options->memory_bytes, 128ull << 20);
    EXPECT_EQ(options->vcpus, 1u);
    EXPECT_EQ(options->serial.kind, SerialOutput::Kind::None);
    EXPECT_FALSE(options->timeout);
    EXPECT_FALSE(options->report_path);
    EXPECT_FALSE(options->debug);
    EXPECT_TRUE(options->job_argv.empty());
}

TEST(ParseVmmOptions, EveryOption_IsParsed)
{
    auto options = parse({ "--kernel", "k", "--initrd", "i", "--cmdline", "foo=1 bar", "--memory", "1G", "--vcpus", "4",
        "--serial", "stdout", "--timeout", "500ms", "--report", "r.json", "--debug", "--", "/bin/echo", "a b", "--x" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(*options->initrd_path, "i");
    EXPECT_EQ(options->extra_cmdline, "foo=1 bar");
    EXPECT_EQ(options->memory_bytes, 1ull << 30);
    EXPECT_EQ(options->vcpus, 4u);
    EXPECT_EQ(options->serial.kind, SerialOutput::Kind::Stdout);
    EXPECT_EQ(*options->timeout, 500ms);
    EXPECT_EQ(*options->report_path, "r.json");
    EXPECT_TRUE(options->debug);
    EXPECT_EQ(options->job_argv, (std::vector<std::string> { "/bin/echo", "a b", "--x" }));
}

TEST(ParseVmmOptions, BenchmarkFlags_AreParsedAndCarriedIntoConfig)
{
    auto options = parse({ "--kernel", "k", "--exit-at-boot-marker", "--exit-before-run", "--profile-setup" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_TRUE(options->exit_at_boot_marker);
    EXPECT_TRUE(options->exit_before_run);
    EXPECT_TRUE(options->profile_setup);
    EXPECT_FALSE(parse({ "--kernel", "k" })->profile_setup);
    EXPECT_TRUE(machine_config_from(*options, "").stop_at_boot_marker);
    EXPECT_FALSE(machine_config_from(*parse({ "--kernel", "k" }), "").stop_at_boot_marker);
}

TEST(ParseVmmOptions, EqualsForm_IsAccepted)
{
    auto options = parse({ "--kernel=k", "--memory=64M", "--cmdline=a=b" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->kernel_path, "k");
    EXPECT_EQ(options->memory_bytes, 64ull << 20);
    EXPECT_EQ(options->extra_cmdline, "a=b");
}

TEST(ParseVmmOptions, SerialValues_MapToKinds)
{
    EXPECT_EQ(parse({ "--kernel", "k", "--serial", "none" })->serial.kind, SerialOutput::Kind::None);
    EXPECT_EQ(parse({ "--kernel", "k", "--serial", "stderr" })->serial.kind, SerialOutput::Kind::Stderr);
    auto file = parse({ "--kernel", "k", "--serial", "console.log" });
    EXPECT_EQ(file->serial.kind, SerialOutput::Kind::File);
    EXPECT_EQ(file->serial.path, "console.log");
}

TEST(ParseVmmOptions, Help_StopsParsing)
{
    auto options = parse({ "--help", "--bogus" });
    ASSERT_TRUE(options);
    EXPECT_TRUE(options->help);
    EXPECT_TRUE(parse({ "-h" })->help);
}

TEST(ParseVmmOptions, MissingKernel_IsRejected) { expect_rejected({ "--vcpus", "2" }, "--kernel"); }
TEST(ParseVmmOptions, UnknownOption_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--fast" }, "unknown option '--fast'");
}
TEST(ParseVmmOptions, UnknownEqualsOption_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--fast=1" }, "unknown option '--fast'");
}
TEST(ParseVmmOptions, StrayArgument_IsRejected) { expect_rejected({ "--kernel", "k", "ls" }, "after --"); }
TEST(ParseVmmOptions, MissingValueAtEnd_IsRejected) { expect_rejected({ "--kernel" }, "needs a value"); }
TEST(ParseVmmOptions, DuplicateOption_IsRejected)
{
    expect_rejected({ "--kernel", "a", "--kernel", "b" }, "more than once");
}
TEST(ParseVmmOptions, DuplicateFlag_IsRejected)
{
    expect_rejected({ "--kernel", "a", "--debug", "--debug" }, "more than once");
}
TEST(ParseVmmOptions, ValueOnFlag_IsRejected) { expect_rejected({ "--kernel", "a", "--debug=yes" }, "takes no value"); }
TEST(ParseVmmOptions, EmptyKernelPath_IsRejected) { expect_rejected({ "--kernel", "" }, "empty path"); }
TEST(ParseVmmOptions, EmptyInitrdPath_IsRejected) { expect_rejected({ "--kernel", "k", "--initrd=" }, "empty path"); }
TEST(ParseVmmOptions, EmptyReportPath_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--report", "" }, "empty path");
}
TEST(ParseVmmOptions, EmptySerial_IsRejected) { expect_rejected({ "--kernel", "k", "--serial", "" }, "--serial"); }
TEST(ParseVmmOptions, BadMemory_IsRejected) { expect_rejected({ "--kernel", "k", "--memory", "12Q" }, "--memory"); }
TEST(ParseVmmOptions, MemoryTooSmall_IsRejected) { expect_rejected({ "--kernel", "k", "--memory", "16M" }, "minimum"); }
TEST(ParseVmmOptions, MemoryTooLarge_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--memory", "128G" }, "maximum");
}
TEST(ParseVmmOptions, ZeroVcpus_IsRejected) { expect_rejected({ "--kernel", "k", "--vcpus", "0" }, "--vcpus"); }
TEST(ParseVmmOptions, TooManyVcpus_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--vcpus", "33" }, "out of range");
}
TEST(ParseVmmOptions, NonNumericVcpus_IsRejected) { expect_rejected({ "--kernel", "k", "--vcpus", "two" }, "--vcpus"); }
TEST(ParseVmmOptions, BadTimeout_IsRejected) { expect_rejected({ "--kernel", "k", "--timeout", "soon" }, "--timeout"); }

TEST(ParseVmmOptions, ValueLookingLikeOption_IsTakenAsValue)
{
    // "--cmdline --x" means the extra cmdline is "--x": values are never reinterpreted as options.
    auto options = parse({ "--kernel", "k", "--cmdline", "--x" });
    ASSERT_TRUE(options);
    EXPECT_EQ(options->extra_cmdline, "--x");
}

TEST(ParseVmmOptions, EmptyJobAfterSeparator_IsAccepted)
{
    auto options = parse({ "--kernel", "k", "--" });
    ASSERT_TRUE(options);
    EXPECT_TRUE(options->job_argv.empty());
}

TEST(MachineConfigFrom, CopiesEveryField)
{
    auto options = parse({ "--kernel", "k", "--initrd", "i", "--memory", "256M", "--vcpus", "2", "--timeout", "3s",
        "--serial", "stderr", "--debug" });
    ASSERT_TRUE(options);
    auto config = machine_config_from(*options, "console=ttyS0");
    EXPECT_EQ(config.kernel_path, "k");
    EXPECT_EQ(*config.initrd_path, "i");
    EXPECT_EQ(config.cmdline, "console=ttyS0");
    EXPECT_EQ(config.memory_bytes, 256ull << 20);
    EXPECT_EQ(config.vcpus, 2u);
    EXPECT_EQ(*config.timeout, 3s);
    EXPECT_EQ(config.serial.kind, SerialOutput::Kind::Stderr);
    EXPECT_TRUE(config.debug);
    EXPECT_EQ(config.seccomp, SeccompMode::AllThreads);
}

TEST(MachineConfigFrom, NoSeccompOption_TurnsEveryFilterOff)
{
    auto options = parse({ "--kernel", "k", "--no-seccomp" });
    ASSERT_TRUE(options);

    auto config = machine_config_from(*options, "console=ttyS0");

    EXPECT_EQ(config.seccomp, SeccompMode::Off);
}

TEST(VmmOptionsJail, AllJailOptions_Parsed)
{
    auto options = parse({ "--kernel", "k", "--jail", "/run/husk/jail", "--jail-id", "vm-1", "--jail-uid", "40100",
        "--jail-gid", "40101" });

    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->jail_directory, "/run/husk/jail");
    EXPECT_EQ(options->jail_id, "vm-1");
    EXPECT_EQ(options->jail_uid, 40100u);
    EXPECT_EQ(options->jail_gid, 40101u);
}

TEST(VmmOptionsJail, JailWithoutIds_Refused)
{
    auto options = parse({ "--kernel", "k", "--jail", "/run/husk/jail", "--jail-uid", "40100" });

    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("--jail-gid"), std::string::npos) << options.error().message;
}

TEST(VmmOptionsJail, RootIdOrRelativeDirOrBadId_Refused)
{
    EXPECT_FALSE(parse({ "--kernel", "k", "--jail", "/j", "--jail-uid", "0", "--jail-gid", "1" }));
    EXPECT_FALSE(parse({ "--kernel", "k", "--jail", "relative", "--jail-uid", "1", "--jail-gid", "1" }));
    EXPECT_FALSE(parse({ "--kernel", "k", "--jail", "/j", "--jail-id", "../x", "--jail-uid", "1", "--jail-gid", "1" }));
}

TEST(VmmOptionsJail, JailDetailsWithoutJail_Refused)
{
    EXPECT_FALSE(parse({ "--kernel", "k", "--jail-uid", "40100" }));
}

TEST(VmmOptionsJail, MemoryLimit_Parsed)
{
    auto options = parse(
        { "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--jail-memory-limit", "96M" });

    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->jail_memory_limit, 96ull << 20);
}

TEST(VmmOptionsJail, MemoryLimitUnset_IsEmpty)
{
    auto options = parse({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1" });

    ASSERT_TRUE(options);
    EXPECT_FALSE(options->jail_memory_limit);
}

TEST(VmmOptionsJail, BadMemoryLimit_Refused)
{
    for (char const* bad : { "", "0", "lots", "-1M", "4097" }) {
        auto options = parse(
            { "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--jail-memory-limit", bad });
        ASSERT_FALSE(options) << bad;
        EXPECT_NE(options.error().message.find("--jail-memory-limit"), std::string::npos) << options.error().message;
    }
}

TEST(VmmOptionsJail, MemoryLimitWithoutJail_Refused)
{
    auto options = parse({ "--kernel", "k", "--jail-memory-limit", "96M" });

    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("only apply with --jail"), std::string::npos) << options.error().message;
}

TEST(ParseVmmOptions, Vsock_GivesDeviceWithDefaultCidInConfig)
{
    auto options = parse({ "--kernel", "vmlinux", "--vsock", "/run/vm.sock" });
    ASSERT_TRUE(options.has_value()) << options.error().message;
    auto config = machine_config_from(*options, "cmdline");
    ASSERT_TRUE(config.vsock.has_value());
    EXPECT_EQ(config.vsock->uds_path, "/run/vm.sock");
    EXPECT_EQ(config.vsock->guest_cid, default_guest_cid);
}

TEST(ParseVmmOptions, VsockCid_IsCarriedIntoConfig)
{
    auto options = parse({ "--kernel", "vmlinux", "--vsock=v.sock", "--vsock-cid", "42" });
    ASSERT_TRUE(options.has_value()) << options.error().message;
    EXPECT_EQ(machine_config_from(*options, "").vsock->guest_cid, 42u);
}

TEST(ParseVmmOptions, VsockHoldUntilAgent_OffByDefault_CarriedIntoConfig)
{
    auto plain = parse({ "--kernel", "vmlinux", "--vsock", "v.sock" });
    ASSERT_TRUE(plain.has_value()) << plain.error().message;
    EXPECT_FALSE(machine_config_from(*plain, "").vsock->hold_until_agent_listens);
    auto held = parse({ "--kernel", "vmlinux", "--vsock", "v.sock", "--vsock-hold-until-agent" });
    ASSERT_TRUE(held.has_value()) << held.error().message;
    EXPECT_TRUE(machine_config_from(*held, "").vsock->hold_until_agent_listens);
}

TEST(ParseVmmOptions, VsockHoldUntilAgent_WithoutVsockOrWithRestore_IsRejected)
{
    expect_rejected({ "--kernel", "k", "--vsock-hold-until-agent" }, "--vsock-hold-until-agent needs --vsock");
    expect_rejected({ "--kernel", "k", "--vsock", "a", "--vsock-hold-until-agent=yes" }, "--vsock-hold-until-agent");
    expect_rejected({ "--restore", "/snap", "--vsock", "a", "--vsock-hold-until-agent" },
        "--restore cannot be combined with --vsock-hold-until-agent");
}

TEST(ParseVmmOptions, NoVsock_GivesNoDevice)
{
    auto options = parse({ "--kernel", "vmlinux" });
    ASSERT_TRUE(options.has_value());
    EXPECT_FALSE(machine_config_from(*options, "").vsock.has_value());
}

TEST(ParseVmmOptions, BadVsockValues_AreRejected)
{
    expect_rejected({ "--kernel", "k", "--vsock", "" }, "empty path");
    expect_rejected({ "--kernel", "k", "--vsock", "a", "--vsock-cid", "2" }, "--vsock-cid");
    expect_rejected({ "--kernel", "k", "--vsock", "a", "--vsock-cid", "4294967295" }, "--vsock-cid");
    expect_rejected({ "--kernel", "k", "--vsock", "a", "--vsock-cid", "x" }, "--vsock-cid");
    expect_rejected({ "--kernel", "k", "--vsock-cid", "3" }, "--vsock-cid needs --vsock");
    expect_rejected({ "--kernel", "k", "--vsock", "a", "--vsock", "b" }, "more than once");
}

TEST(ParseVmmOptions, Disks_AreRepeatableInOrderAndReachTheConfig)
{
    auto options = parse({ "--kernel", "k", "--disk", "/img/root.ext4,ro", "--disk=/img/data.img" });
    ASSERT_TRUE(options) << options.error().message;
    ASSERT_EQ(options->disks.size(), 2u);
    EXPECT_EQ(options->disks[0], (DiskOption { "/img/root.ext4", true }));
    EXPECT_EQ(options->disks[1], (DiskOption { "/img/data.img", false }));
    auto config = machine_config_from(*options, "");
    ASSERT_EQ(config.disks.size(), 2u);
    EXPECT_EQ(config.disks[0].path, "/img/root.ext4");
    EXPECT_TRUE(config.disks[0].read_only);
    EXPECT_FALSE(config.disks[1].read_only);
}

TEST(ParseVmmOptions, NineDisks_AreRefused)
{
    std::vector<char const*> argv { "husk-vmm", "--kernel", "k" };
    for (int i = 0; i < 9; ++i)
        argv.insert(argv.end(), { "--disk", "/img/d" });
    auto options = parse_vmm_options(argv);
    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("at most 8"), std::string::npos);
}

TEST(ParseVmmOptions, Shares_AreRepeatableInOrderAndReachTheConfig)
{
    auto options = parse({ "--kernel", "k", "--share", "/srv/in:in,ro", "--share=/srv/out:out" });
    ASSERT_TRUE(options) << options.error().message;
    ASSERT_EQ(options->shares.size(), 2u);
    EXPECT_EQ(options->shares[0], (ShareOption { "/srv/in", "in", true }));
    auto config = machine_config_from(*options, "");
    ASSERT_EQ(config.shares.size(), 2u);
    EXPECT_EQ(config.shares[1].tag, "out");
    EXPECT_FALSE(config.shares[1].read_only);
    EXPECT_EQ(config.shares[1].serve_uid, ::geteuid());
}

TEST(ParseVmmOptions, SharesJailed_AreServedAsTheJailIds)
{
    auto options = parse(
        { "--kernel", "k", "--share", "/srv/in:in", "--jail", "/run/j", "--jail-uid", "4000", "--jail-gid", "4001" });
    ASSERT_TRUE(options) << options.error().message;
    auto config = machine_config_from(*options, "");
    ASSERT_EQ(config.shares.size(), 1u);
    EXPECT_EQ(config.shares[0].serve_uid, 4000u);
    EXPECT_EQ(config.shares[0].serve_gid, 4001u);
}

TEST(ParseVmmOptions, GuestOwnedShares_NeedTheJail_AndReachTheConfig)
{
    expect_rejected({ "--kernel", "k", "--share", "/srv/in:in,guest-owners" }, "needs --jail");
    expect_rejected({ "--kernel", "k", "--rootfs", "/srv/root,rw,guest-owners" }, "needs --jail");
    auto options = parse({ "--kernel", "k", "--rootfs", "/srv/root,rw,guest-owners", "--share", "/srv/in:in", "--jail",
        "/run/j", "--jail-uid", "4000", "--jail-gid", "4001" });
    ASSERT_TRUE(options) << options.error().message;
    auto config = machine_config_from(*options, "");
    ASSERT_EQ(config.shares.size(), 2u);
    EXPECT_EQ(config.shares[0].ownership, ShareOwnership::ServerUser);
    EXPECT_EQ(config.shares[1].tag, "rootfs");
    EXPECT_EQ(config.shares[1].ownership, ShareOwnership::Guest);
    EXPECT_FALSE(config.shares[1].read_only);
}

TEST(ParseVmmOptions, SharesWithTheSameTag_OrTooMany_AreRefused)
{
    expect_rejected({ "--kernel", "k", "--share", "/a:t", "--share", "/b:t" }, "used twice");
    std::vector<char const*> argv { "husk-vmm", "--kernel", "k" };
    std::vector<std::string> values;
    for (int i = 0; i < 9; ++i)
        values.push_back("/srv:t" + std::to_string(i));
    for (auto const& value : values)
        argv.insert(argv.end(), { "--share", value.c_str() });
    auto options = parse_vmm_options(argv);
    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("at most 8"), std::string::npos);
}

TEST(ParseVmmOptions, DiskWithBadFlag_IsRefused)
{
    EXPECT_FALSE(parse({ "--kernel", "k", "--disk", "/img/d,rox" }));
    EXPECT_FALSE(parse({ "--kernel", "k", "--disk", "" }));
}

// --- Sandbox networking: --net, --publish, --net-dns -------------------------------------------

TEST(ParseVmmOptions, Net_DefaultIsNone)
{
    auto options = parse({ "--kernel", "k" });
    ASSERT_TRUE(options);
    EXPECT_FALSE(options->network.has_network());
    EXPECT_TRUE(options->published.empty());
}

TEST(ParseVmmOptions, Net_AllowWithPublishAndDns_UnderAJail)
{
    auto options = parse({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net",
        "allow=198.18.0.0/15,pypi.org:443", "--publish", "8080:80", "--publish=8443:443", "--net-dns", "198.18.0.53",
        "--net-dns", "198.18.0.54" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->network.mode, NetworkMode::Allow);
    EXPECT_EQ(options->network.names.size(), 1u);
    ASSERT_EQ(options->published.size(), 2u);
    EXPECT_EQ(options->published[1], (PublishedPort { 8443, 443 }));
    EXPECT_EQ(options->net_dns.size(), 2u);
}

TEST(ParseVmmOptions, Net_WithoutJail_IsRefusedNamingRoot)
{
    expect_rejected({ "--kernel", "k", "--net", "internet" }, "--jail");
    auto none = parse({ "--kernel", "k", "--net", "none" });
    EXPECT_TRUE(none) << "--net none needs nothing";
}

TEST(ParseVmmOptions, Net_Malformed_IsRefused)
{
    expect_rejected({ "--kernel", "k", "--net", "on" }, "none, internet or allow=LIST");
    expect_rejected({ "--kernel", "k", "--net", "allow=10.0.0.1" }, "always denies");
    expect_rejected({ "--kernel", "k", "--net", "internet", "--net", "none" }, "more than once");
    expect_rejected({ "--kernel", "k", "--net" }, "needs a value");
}

TEST(ParseVmmOptions, Publish_WithoutNetworkOrMalformed_IsRefused)
{
    expect_rejected({ "--kernel", "k", "--publish", "8080:80" }, "need a network");
    expect_rejected({ "--kernel", "k", "--net-dns", "198.18.0.53" }, "need a network");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--publish", "80" },
        "HOST_PORT:GUEST_PORT");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--publish", "80:80", "--publish", "80:81" },
        "published twice");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--net-dns", "dns.example" },
        "--net-dns");
}

TEST(ParseVmmOptions, NetGuestFile_WithNetAndAnAbsolutePath_Accepted)
{
    auto options = parse({ "--restore", "/snap", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net",
        "internet", "--net-guest-file", "/run/sandbox/guest-network" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->net_guest_file, std::optional<std::string>("/run/sandbox/guest-network"));
}

TEST(ParseVmmOptions, NetGuestFile_WithoutNetOrRelative_IsRefused)
{
    expect_rejected({ "--kernel", "k", "--net-guest-file", "/tmp/g" }, "needs --net internet or allow=LIST");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--net-guest-file", "g" },
        "absolute path");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--net-guest-file", "" },
        "absolute path");
}

TEST(BuildKernelCmdline, GuestNetwork_GoesBeforeExtraArgumentsAndTheJob)
{
    auto options = parse({ "--kernel", "k", "--cmdline", "husk.root=/dev/vda", "--", "wget", "x" });
    ASSERT_TRUE(options);
    auto cmdline = build_kernel_cmdline(*options, "husk.ip=10.231.0.6/30 husk.gw=10.231.0.5");
    ASSERT_TRUE(cmdline);
    auto network = cmdline->find("husk.ip=10.231.0.6/30 husk.gw=10.231.0.5");
    ASSERT_NE(network, std::string::npos);
    EXPECT_LT(network, cmdline->find("husk.root=/dev/vda"));
    EXPECT_LT(network, cmdline->find(" -- "));
}

TEST(ParseVmmOptions, Net_WithNetTap_IsRefused)
{
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net", "internet",
                        "--net-tap", "tap0" },
        "--net-tap");
}

TEST(ParseVmmOptions, ReapNetworks_NeedsNoKernelAndTakesNothingElse)
{
    auto options = parse({ "--reap-networks" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_TRUE(options->reap_networks);
    expect_rejected({ "--reap-networks", "--kernel", "k" }, "no other option");
    expect_rejected({ "--reap-networks", "--", "true" }, "no job");
    EXPECT_TRUE(parse({ "--reap-networks", "--report", "r.json", "--debug" }));
    expect_rejected({ "--reap-networks=1" }, "takes no value");
}

TEST(ParseVmmOptions, Restore_NeedsNoKernelAndNotesGivenSizes)
{
    auto options = parse({ "--restore", "/snap", "--vsock", "/tmp/v.sock", "--control", "/tmp/c.sock", "--memory",
        "256M" });
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->restore_directory, std::optional<std::string>("/snap"));
    EXPECT_EQ(options->control_path, std::optional<std::string>("/tmp/c.sock"));
    EXPECT_TRUE(options->memory_given);
    EXPECT_FALSE(options->vcpus_given);
    EXPECT_EQ(machine_config_from(*options, "").control_path, std::optional<std::string>("/tmp/c.sock"));
}

TEST(ParseVmmOptions, Restore_RefusesWhatShapedABoot)
{
    for (auto const* option : { "--kernel", "--initrd", "--cmdline" }) {
        auto options = parse({ "--restore", "/snap", option, "x" });
        ASSERT_FALSE(options) << option;
        EXPECT_NE(options.error().message.find("--restore cannot be combined with"), std::string::npos);
    }
    EXPECT_FALSE(parse({ "--restore", "/snap", "--", "true" }));
    EXPECT_FALSE(parse({ "--restore", "" }));
}

TEST(ParseVmmOptions, Rootfs_AddsItsShareAndTheRootParameter)
{
    auto options = parse({ "--kernel", "k", "--share", "/srv/in:in,ro", "--rootfs", "/srv/root" });
    ASSERT_TRUE(options) << options.error().message;
    ASSERT_EQ(options->shares.size(), 2u);
    EXPECT_EQ(options->shares[1], (ShareOption { "/srv/root", "rootfs", true }));
    auto cmdline = build_kernel_cmdline(*options);
    ASSERT_TRUE(cmdline) << cmdline.error().message;
    EXPECT_NE(cmdline->find(" husk.root=9p:rootfs"), std::string::npos) << *cmdline;
    auto config = machine_config_from(*options, *cmdline);
    ASSERT_EQ(config.shares.size(), 2u);
    EXPECT_TRUE(config.shares[1].read_only);
}

TEST(ParseVmmOptions, RootfsRwJailed_IsAWritableShareServedAsTheJailIds)
{
    auto options = parse({ "--kernel", "k", "--rootfs=/srv/root,rw", "--jail", "/run/j", "--jail-uid", "4000",
        "--jail-gid", "4001", "--cmdline", "husk.mount=x:/y" });
    ASSERT_TRUE(options) << options.error().message;
    auto cmdline = build_kernel_cmdline(*options);
    ASSERT_TRUE(cmdline);
    EXPECT_NE(cmdline->find(" husk.root=9p:rootfs:rw husk.mount=x:/y"), std::string::npos) << *cmdline;
    auto config = machine_config_from(*options, *cmdline);
    ASSERT_EQ(config.shares.size(), 1u);
    EXPECT_FALSE(config.shares[0].read_only);
    EXPECT_EQ(config.shares[0].serve_uid, 4000u);
}

TEST(ParseVmmOptions, RootfsConflicts_AreRefused)
{
    expect_rejected({ "--kernel", "k", "--rootfs", "/a", "--rootfs", "/b" }, "more than once");
    expect_rejected({ "--kernel", "k", "--rootfs", "/a", "--share", "/b:rootfs" }, "--rootfs's");
    expect_rejected({ "--kernel", "k", "--rootfs", "/a", "--cmdline", "quiet husk.root=/dev/vda" }, "husk.root=");
    expect_rejected({ "--kernel", "k", "--rootfs", "/a", "--cmdline", "husk.rootfstype=ext4" }, "husk.root=");
    expect_rejected({ "--kernel", "k", "--rootfs", "a" }, "absolute");
    // With --restore, --rootfs names the directory the snapshot's root is served from again.
    auto restored = parse({ "--restore", "/snap", "--rootfs", "/a" });
    ASSERT_TRUE(restored) << restored.error().message;
    ASSERT_EQ(restored->shares.size(), 1u);
    EXPECT_EQ(restored->shares[0].tag, "rootfs");
    std::vector<char const*> argv { "husk-vmm", "--kernel", "k", "--rootfs", "/root" };
    std::vector<std::string> values;
    for (int i = 0; i < 8; ++i)
        values.push_back("/srv:t" + std::to_string(i));
    for (auto const& value : values)
        argv.insert(argv.end(), { "--share", value.c_str() });
    auto options = parse_vmm_options(argv);
    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("--rootfs counted"), std::string::npos) << options.error().message;
}

TEST(ParseVmmOptions, NetNamespace_JoinsAnExistingNamespaceForItsTap)
{
    auto options = parse({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net-tap",
        "husk-tap0,mac=02:00:00:00:00:01", "--net-namespace", "/run/netns/ctr" });
    ASSERT_TRUE(options) << options.error().message;
    ASSERT_TRUE(options->net_namespace);
    EXPECT_EQ(*options->net_namespace, "/run/netns/ctr");
    EXPECT_EQ(options->net_tap->tap_name, "husk-tap0");
}

TEST(ParseVmmOptions, NetNamespace_NeedsTheJailATapAndAnAbsolutePath)
{
    expect_rejected({ "--kernel", "k", "--net-tap", "t0", "--net-namespace", "/run/netns/x" }, "--jail and --net-tap");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net-namespace",
                        "/run/netns/x" },
        "--jail and --net-tap");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net-tap", "t0",
                        "--net-namespace", "netns/x" },
        "absolute");
    expect_rejected({ "--kernel", "k", "--jail", "/j", "--jail-uid", "1", "--jail-gid", "1", "--net-tap", "t0",
                        "--net-namespace", "" },
        "absolute");
}

TEST(ParseVmmOptions, MemoryHugePages_OnByDefault_OffOnRequest_CarriedIntoConfig)
{
    auto defaults = parse({ "--kernel", "k" });
    ASSERT_TRUE(defaults) << defaults.error().message;
    EXPECT_EQ(defaults->memory_huge_pages, HugePages::On);
    EXPECT_EQ(machine_config_from(*defaults, "").memory_huge_pages, HugePages::On);
    auto off = parse({ "--kernel", "k", "--memory-hugepages", "off" });
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_EQ(off->memory_huge_pages, HugePages::Off);
    EXPECT_EQ(machine_config_from(*off, "").memory_huge_pages, HugePages::Off);
    auto on = parse({ "--kernel", "k", "--memory-hugepages=on" });
    ASSERT_TRUE(on) << on.error().message;
    EXPECT_EQ(on->memory_huge_pages, HugePages::On);
}

TEST(ParseVmmOptions, MemoryHugePages_BadValues_AndWithRestore_AreRejected)
{
    for (auto const* value : { "", "yes", "ON", "1", "on ", "2M" })
        expect_rejected({ "--kernel", "k", "--memory-hugepages", value }, "--memory-hugepages");
    expect_rejected({ "--kernel", "k", "--memory-hugepages", "on", "--memory-hugepages", "off" }, "--memory-hugepages");
    expect_rejected({ "--restore", "/snap", "--memory-hugepages", "off" }, "--restore cannot be combined with");
}

// The C ABI without a VM: error handles carry the kind and message; NULL arguments are refused.
#include "husk.h"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace {

TEST(CAbi, CreateWithMissingKernel_IsBadConfigWithAMessage)
{
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.kernel_path = "/no/such/vmlinux";
    config.vmm_path = "/bin/true";
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;

    int status = husk_sandbox_create(&config, &sandbox, &error);

    EXPECT_EQ(status, -1);
    EXPECT_EQ(sandbox, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    EXPECT_NE(std::string(husk_error_message(error)).find("/no/such/vmlinux"), std::string::npos);
    husk_error_free(error);
}

TEST(CAbi, ShortConfigStruct_ReadsOnlyItsFields)
{
    husk_sandbox_config config {};
    config.size = offsetof(husk_sandbox_config, kernel_path); // an older caller: vmm_path only
    config.vmm_path = "/no/such/husk-vmm";
    config.kernel_path = "ignored";
    husk_error* error = nullptr;
    husk_sandbox* sandbox = nullptr;

    EXPECT_EQ(husk_sandbox_create(&config, &sandbox, &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(husk_error_message(error)).find("husk-vmm"), std::string::npos);
    husk_error_free(error);
}

TEST(CAbi, NullArguments_AreRefusedNotCrashed)
{
    husk_error* error = nullptr;

    EXPECT_EQ(husk_sandbox_create(nullptr, nullptr, &error), -1);
    ASSERT_NE(error, nullptr);
    husk_error_free(error);
    EXPECT_EQ(husk_sandbox_run(nullptr, nullptr, 0, nullptr, nullptr, nullptr), -1);
    husk_sandbox_destroy(nullptr);
    EXPECT_STRNE(husk_version(), "");
}

} // namespace

namespace {

TEST(CAbi, DetachAndConnectWithBadArguments_AreRefusedNotCrashed)
{
    husk_error* error = nullptr;
    char small[16];
    EXPECT_EQ(husk_sandbox_detach(nullptr, small, sizeof small, &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    husk_error_free(error);

    husk_sandbox* sandbox = nullptr;
    EXPECT_EQ(husk_sandbox_connect(nullptr, nullptr, &sandbox, nullptr), -1);
    error = nullptr;
    EXPECT_EQ(husk_sandbox_connect("/no/such/sandbox", nullptr, &sandbox, &error), -1);
    EXPECT_EQ(sandbox, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(husk_error_message(error)).find("not a detached sandbox"), std::string::npos);
    husk_error_free(error);
}

} // namespace

namespace {

TEST(CAbi, UnknownJailMode_IsBadConfigNamingTheValue)
{
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.jail = 7;
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;

    EXPECT_EQ(husk_sandbox_create(&config, &sandbox, &error), -1);
    EXPECT_EQ(sandbox, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    EXPECT_NE(std::string(husk_error_message(error)).find("jail is 7"), std::string::npos) << husk_error_message(error);
    husk_error_free(error);
    EXPECT_EQ(husk_sandbox_jailed(nullptr), 0);
}

TEST(CAbi, ConfigWithoutTheJailField_IgnoresWhatFollowsIt)
{
    husk_sandbox_config config {};
    config.size = offsetof(husk_sandbox_config, jail); // a caller built before the field existed
    config.jail = 7;
    config.vmm_path = "/no/such/husk-vmm";
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;

    EXPECT_EQ(husk_sandbox_create(&config, &sandbox, &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(std::string(husk_error_message(error)).find("jail is"), std::string::npos) << husk_error_message(error);
    husk_error_free(error);
}

} // namespace

namespace {

// Creating with `config` fails before any VM starts; returns the error message (empty: no error).
std::string create_error(husk_sandbox_config const& config, enum husk_error_kind expected_kind = HUSK_ERROR_BAD_CONFIG)
{
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;
    EXPECT_EQ(husk_sandbox_create(&config, &sandbox, &error), -1);
    EXPECT_EQ(sandbox, nullptr);
    if (!error)
        return "";
    EXPECT_EQ(husk_error_kind(error), expected_kind);
    std::string message = husk_error_message(error);
    husk_error_free(error);
    return message;
}

husk_sandbox_config config_without_vm()
{
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.vmm_path = "/bin/true";
    config.kernel_path = "/no/such/vmlinux";
    return config;
}

TEST(CAbi, ArrayNullWithACount_IsRefusedByName)
{
    auto config = config_without_vm();
    config.mount_count = 1;
    EXPECT_NE(create_error(config).find("husk_sandbox_config.mounts is NULL"), std::string::npos);
    config = config_without_vm();
    config.network = "internet";
    config.publish_count = 2;
    EXPECT_NE(create_error(config).find("husk_sandbox_config.publish is NULL"), std::string::npos);
    config = config_without_vm();
    config.network = "internet";
    config.dns_server_count = 1;
    EXPECT_NE(create_error(config).find("husk_sandbox_config.dns_servers is NULL"), std::string::npos);
}

TEST(CAbi, MountsReachTheSdkChecks)
{
    auto config = config_without_vm();
    husk_mount mounts[] = { { "relative/dir", "/data", 0 } };
    config.mounts = mounts;
    config.mount_count = 1;
    EXPECT_NE(create_error(config).find("relative/dir"), std::string::npos);

    husk_mount null_host[] = { { nullptr, "/data", 1 } };
    config.mounts = null_host;
    EXPECT_FALSE(create_error(config).empty());
}

TEST(CAbi, NetworkFieldsReachTheSdkChecks)
{
    auto config = config_without_vm();
    config.network = "everything";
    EXPECT_NE(create_error(config).find("network must be none, internet or allow=LIST"), std::string::npos);

    config = config_without_vm();
    husk_port_mapping publish[] = { { 8080, 80 } };
    config.publish = publish;
    config.publish_count = 1;
    EXPECT_NE(create_error(config).find("need a network"), std::string::npos);

    config.network = "internet";
    husk_port_mapping zero[] = { { 0, 80 } };
    config.publish = zero;
    EXPECT_NE(create_error(config).find("1..65535"), std::string::npos);

    config = config_without_vm();
    char const* servers[] = { "192.0.2.53" };
    config.dns_servers = servers;
    config.dns_server_count = 1;
    EXPECT_NE(create_error(config).find("need a network"), std::string::npos);
}

TEST(CAbi, RootfsDirFieldsReachTheSdkChecks)
{
    auto config = config_without_vm();
    config.rootfs_dir = "relative/root";
    EXPECT_NE(create_error(config).find("rootfs_dir must be absolute"), std::string::npos);

    config = config_without_vm();
    config.rootfs_dir_writable = 1;
    EXPECT_NE(create_error(config).find("rootfs_writes applies to rootfs_dir"), std::string::npos);

    config = config_without_vm();
    config.rootfs_dir = "/srv/root";
    config.rootfs_path = "debian-python";
    EXPECT_NE(create_error(config).find("not both"), std::string::npos);
}

TEST(CAbi, ConfigOfAnOlderCaller_IgnoresTheNewFields)
{
    auto config = config_without_vm();
    config.size = offsetof(husk_sandbox_config, mounts); // a caller built before mounts existed
    config.mount_count = 3; // garbage beyond its struct: never read
    config.network = "garbage";
    EXPECT_NE(create_error(config).find("/no/such/vmlinux"), std::string::npos);
}

TEST(CAbi, SnapshotAndRestoreWithBadArguments_AreRefusedNotCrashed)
{
    husk_error* error = nullptr;
    EXPECT_EQ(husk_sandbox_snapshot(nullptr, "/tmp/x", &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    husk_error_free(error);

    husk_sandbox* sandbox = nullptr;
    EXPECT_EQ(husk_sandbox_restore(nullptr, nullptr, &sandbox, nullptr), -1);
    error = nullptr;
    EXPECT_EQ(husk_sandbox_restore("/no/such/snapshot", nullptr, &sandbox, &error), -1);
    EXPECT_EQ(sandbox, nullptr);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    EXPECT_NE(std::string(husk_error_message(error)).find("not a snapshot directory"), std::string::npos);
    husk_error_free(error);
}

// Unjailed, a clone's network comes from passt, probed from the MAC in the snapshot's state
// file: a state file that cannot be read is refused naming it, before anything starts.
TEST(CAbi, RestoreWithNetworkUnjailed_UnreadableStateFile_IsRefusedNamingIt)
{
    char directory[] = "/tmp/husk-c-abi-snapshot-XXXXXX";
    ASSERT_NE(::mkdtemp(directory), nullptr);
    auto state_path = std::string(directory) + "/state";
    ASSERT_TRUE(std::ofstream(state_path).good());
    husk_sandbox_config config {};
    config.size = sizeof config;
    config.network = "internet";
    config.jail = HUSK_JAIL_OFF;
    husk_sandbox* sandbox = nullptr;
    husk_error* error = nullptr;
    EXPECT_EQ(husk_sandbox_restore(directory, &config, &sandbox, &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    EXPECT_NE(std::string(husk_error_message(error)).find(state_path), std::string::npos) << husk_error_message(error);
    husk_error_free(error);

    // An allow-list cannot be enforced without the jail: refused before the state file is read.
    error = nullptr;
    config.network = "allow=192.0.2.1:443";
    EXPECT_EQ(husk_sandbox_restore(directory, &config, &sandbox, &error), -1);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(husk_error_kind(error), HUSK_ERROR_BAD_CONFIG);
    EXPECT_NE(std::string(husk_error_message(error)).find("cannot be enforced"), std::string::npos)
        << husk_error_message(error);
    husk_error_free(error);
    ::unlink(state_path.c_str());
    ::rmdir(directory);
}

} // namespace

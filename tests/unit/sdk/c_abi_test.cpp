// The C ABI without a VM: error handles carry the kind and message; NULL arguments are refused.
#include "husk.h"

#include <gtest/gtest.h>
#include <string>

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

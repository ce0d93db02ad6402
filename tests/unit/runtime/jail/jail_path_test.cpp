// VM ids and paths inside the jail: what is accepted, and each way out refused.
#include "runtime/jail/jail_path.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(ValidateVmId, LettersDigitsDashUnderscore_Accepted)
{
    EXPECT_TRUE(validate_vm_id("vm-01_A"));
    EXPECT_TRUE(validate_vm_id(std::string(max_vm_id_length, 'a')));
}

TEST(ValidateVmId, PathLikeOrEmptyOrLong_Refused)
{
    for (auto id : { "", ".", "..", "a/b", "a b", "vm\n", "../etc", "a.b" })
        EXPECT_FALSE(validate_vm_id(id)) << id;
    EXPECT_FALSE(validate_vm_id(std::string(max_vm_id_length + 1, 'a')));
    EXPECT_FALSE(validate_vm_id(std::string("a\0b", 3)));
}

TEST(SplitJailPath, NestedPath_SplitIntoComponents)
{
    auto components = split_jail_path("dev/net/tun");

    ASSERT_TRUE(components) << components.error().message;
    EXPECT_EQ(*components, (std::vector<std::string> { "dev", "net", "tun" }));
}

TEST(SplitJailPath, WaysOut_Refused)
{
    for (auto path : { "", "/dev/kvm", "../etc", "dev/../../etc", "dev//kvm", "dev/", "./kvm", "dev/." })
        EXPECT_FALSE(split_jail_path(path)) << path;
    EXPECT_FALSE(split_jail_path(std::string("dev\0kvm", 7)));
    EXPECT_FALSE(split_jail_path(std::string(max_jail_path_length + 1, 'a')));
}

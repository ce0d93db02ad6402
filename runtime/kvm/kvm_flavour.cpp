// KVM flavour detection from sysfs module directories.
#include "runtime/kvm/kvm_flavour.hpp"

#include <cstring>
#include <sys/stat.h>

namespace husk {

namespace {
    bool is_directory(std::string const& path)
    {
        struct stat status { };
        return ::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode);
    }
} // namespace

KvmFlavour detect_kvm_flavour(std::string const& sysfs_root)
{
    std::string modules = sysfs_root + "/module/";
    // Hardware modules win: a lab host kernel may build kvm_intel in beside kvm_amd, and a host
    // could in principle carry kvm_pvm next to a real VMX/SVM module.
    if (is_directory(modules + "kvm_intel") || is_directory(modules + "kvm_amd"))
        return KvmFlavour::Hardware;
    if (is_directory(modules + "kvm_pvm"))
        return KvmFlavour::Pvm;
    return KvmFlavour::Unknown;
}

char const* kvm_flavour_name(KvmFlavour flavour)
{
    switch (flavour) {
    case KvmFlavour::Hardware:
        return "hardware";
    case KvmFlavour::Pvm:
        return "pvm";
    case KvmFlavour::Unknown:
        return "unknown";
    }
    return "?";
}

Result<void> check_kvm_flavour(KvmFlavour flavour, PvmPolicy policy, char const* allow_pvm_environment)
{
    if (flavour != KvmFlavour::Pvm)
        return {};
    bool allowed = policy == PvmPolicy::Allow
        || (policy == PvmPolicy::FromEnvironment && allow_pvm_environment != nullptr
            && std::strcmp(allow_pvm_environment, "1") == 0);
    if (allowed)
        return {};
    return fail("/dev/kvm on this host is PVM (kvm_pvm, no VMX/SVM), which cannot boot an unmodified "
                "Linux guest: run inside the lab with `tests/lab/run -- <command>` "
                "(HUSK_ALLOW_PVM=1 overrides this check for experiments)");
}

} // namespace husk

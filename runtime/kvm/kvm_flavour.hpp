// Which KVM implementation backs /dev/kvm, read from sysfs. PVM (kvm_pvm) runs tiny real-mode
// code but cannot boot an unmodified Linux guest, so husk refuses it unless told otherwise.
#pragma once

#include "runtime/base/result.hpp"

#include <string>

namespace husk {

enum class KvmFlavour {
    Hardware, // kvm_intel or kvm_amd: VMX/SVM, boots Linux
    Pvm, // kvm_pvm alone: paravirtual KVM, unmodified Linux dies early (XRSTOR, INT3)
    Unknown, // no module directory found (no KVM at all, or a kernel that hides it)
};

enum class PvmPolicy {
    FromEnvironment, // refuse unless HUSK_ALLOW_PVM=1
    Refuse,
    Allow,
};

// Pure: looks only at <sysfs_root>/module/{kvm_intel,kvm_amd,kvm_pvm}, so tests can pass a
// temporary directory. Production passes "/sys".
KvmFlavour detect_kvm_flavour(std::string const& sysfs_root);

char const* kvm_flavour_name(KvmFlavour flavour);

// Decides whether to go on with this flavour; the error is one sentence a user can act on.
// `allow_pvm_environment` is the value of HUSK_ALLOW_PVM (nullptr when unset), consulted only
// for PvmPolicy::FromEnvironment.
Result<void> check_kvm_flavour(KvmFlavour flavour, PvmPolicy policy, char const* allow_pvm_environment);

} // namespace husk

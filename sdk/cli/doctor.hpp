// `husk doctor`: checks what husk needs from this host and says how to fix what is missing.
// The checks read the host (sysfs, /dev/kvm, syscalls); their verdicts are plain data so the
// wording of each finding is unit-tested through kvm_flavour_finding().
#pragma once

#include "sdk/src/assets.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace husk::cli {

enum class Verdict { Ok, Warn, Fail };

struct Finding {
    Verdict verdict;
    std::string check; // "kvm", "assets", ...
    std::string detail; // what was found, and for Warn/Fail how to fix it
};

// Which KVM this is, from the module directories present under /sys/module.
enum class KvmFlavour { Hardware, Pvm, None };
KvmFlavour kvm_flavour(std::string const& sys_module_dir = "/sys/module");
Finding kvm_flavour_finding(KvmFlavour flavour, std::string const& module_name);

// Whether `husk run` (JailMode::Auto) will jail its VMs for a process with this effective uid.
Finding jail_finding(uid_t effective_uid);

// The husk version, and whether it runs installed (under which prefix) or from a build tree.
Finding version_finding(detail::SearchPlan const& plan);
// husk-vmm, the kernel and the initramfs `husk run` will use (each with where it was found, or
// every place tried and that it is missing there), and the root filesystem images available.
std::vector<Finding> asset_findings(detail::SearchPlan const& plan);

// What sandbox networking (--net) this host can do: the topology needs root, /dev/net/tun and
// iproute2's ip; names and `internet` also need dnsmasq (the DNS forwarder).
struct NetworkHostFacts {
    bool root { false };
    bool tun { false };
    bool ip_tool { false };
    bool dnsmasq { false };
    bool passt { false }; // the network of unjailed VMs (sdk/src/passt_network.hpp)
};
Finding network_finding(NetworkHostFacts const& facts);

std::vector<Finding> run_doctor_checks();
// Prints the findings; 0 when none failed, 1 otherwise.
int doctor_command();

} // namespace husk::cli

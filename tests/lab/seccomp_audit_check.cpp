// Lab: after all SDK lab tests, the lab kernel's log must hold no seccomp kill of husk-vmm.
// A test that tolerates a dead VMM (or fails for another reason first) would otherwise hide one;
// the lab kernel (Debian's) has audit, so every kill leaves a record
// "type=1326 ... exe=".../husk-vmm" ... syscall=N". Nothing in this binary provokes a kill on
// purpose (that is tests/lab/seccomp_test.cpp, in another binary).
#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

struct KernelLog {
    bool has_audit { false }; // the kernel logged its audit start-up: kills would be recorded
    std::vector<std::string> vmm_seccomp_records;
};

KernelLog read_kernel_log()
{
    KernelLog log;
    FILE* dmesg = ::popen("dmesg 2>&1", "r");
    if (!dmesg)
        return log;
    char line[1024];
    while (std::fgets(line, sizeof line, dmesg)) {
        std::string text(line);
        if (text.find("audit: initializing") != std::string::npos)
            log.has_audit = true;
        if (text.find(" type=1326 ") != std::string::npos && text.find("husk-vmm") != std::string::npos)
            log.vmm_seccomp_records.push_back(text);
    }
    ::pclose(dmesg);
    return log;
}

class SeccompAuditCheck : public ::testing::Environment {
public:
    void TearDown() override
    {
        // Only the lab is ours to read: elsewhere the kernel log is the host's.
        if (std::getenv("HUSK_IN_LAB") == nullptr) {
            std::fprintf(
                stderr, "NOTE: not in the lab: the kernel log was not checked for seccomp kills of husk-vmm\n");
            return;
        }
        auto log = read_kernel_log();
        if (!log.has_audit)
            std::fprintf(
                stderr, "NOTE: the lab kernel has no audit (HUSK_LAB_KERNEL?): seccomp kills leave no record\n");
        for (auto const& record : log.vmm_seccomp_records)
            ADD_FAILURE() << "seccomp killed husk-vmm during these tests: " << record;
    }
};

[[maybe_unused]] auto* const registered = ::testing::AddGlobalTestEnvironment(new SeccompAuditCheck);

} // namespace

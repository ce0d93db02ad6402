// Lab: after all SDK lab tests, the lab kernel's log must hold no seccomp kill of husk-vmm.
// A test that tolerates a dead VMM (or fails for another reason first) would otherwise hide one;
// the lab kernel has audit (packaging/kernel/lab-host.config), so every kill leaves a record
// "type=1326 ... exe=".../husk-vmm" ... syscall=N". Nothing in this binary provokes a kill on
// purpose (that is tests/lab/seccomp_test.cpp, in another binary).
#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

std::vector<std::string> vmm_seccomp_records()
{
    std::vector<std::string> records;
    FILE* log = ::popen("dmesg 2>&1", "r");
    if (!log)
        return { "cannot run dmesg" };
    char line[1024];
    while (std::fgets(line, sizeof line, log)) {
        std::string text(line);
        if (text.find(" type=1326 ") != std::string::npos && text.find("husk-vmm") != std::string::npos)
            records.push_back(text);
    }
    ::pclose(log);
    return records;
}

class SeccompAuditCheck : public ::testing::Environment {
public:
    void TearDown() override
    {
        // Only the lab is ours to read: elsewhere the kernel log is the host's.
        if (std::getenv("HUSK_IN_LAB") == nullptr) {
            std::fprintf(stderr, "NOTE: not in the lab: the kernel log was not checked for seccomp kills of husk-vmm\n");
            return;
        }
        for (auto const& record : vmm_seccomp_records())
            ADD_FAILURE() << "seccomp killed husk-vmm during these tests: " << record;
    }
};

[[maybe_unused]] auto* const registered = ::testing::AddGlobalTestEnvironment(new SeccompAuditCheck);

} // namespace

// SeccompFilter: a libseccomp filter built from an allow-list — default action kill-process,
// foreign architectures killed too — and loaded on the calling thread only (no TSYNC: every
// thread kind installs its own list; threads created later inherit their creator's filter).
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/jail/syscall_rule.hpp"

#include <linux/filter.h>
#include <memory>
#include <vector>

namespace husk {

class SeccompFilter {
public:
    // Fails naming the entry when a syscall name is unknown to libseccomp, listed twice, or has
    // an argument index out of range, and when libseccomp refuses a rule.
    static Result<SeccompFilter> create(AllowList rules);

    // Sets no_new_privs (required to load a filter without CAP_SYS_ADMIN, and wanted anyway) and
    // loads the filter on this thread. Irreversible.
    Result<void> load() const;

    // The classic BPF program the kernel would get (seccomp_export_bpf): what the build-time
    // compiler stores and the tests compare against.
    Result<std::vector<sock_filter>> bpf_program() const;
    Result<size_t> bpf_instruction_count() const;

private:
    struct Releaser {
        void operator()(void* context) const;
    };
    explicit SeccompFilter(std::unique_ptr<void, Releaser> context)
        : m_context(std::move(context))
    {
    }

    std::unique_ptr<void, Releaser> m_context;
};

// The number of distinct syscalls a list allows (the budgets count these).
size_t distinct_syscall_count(AllowList rules);

} // namespace husk

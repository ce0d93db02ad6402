// SeccompFilter: allow-list to libseccomp rules, and loading them.
#include "runtime/jail/seccomp_filter.hpp"

#include "runtime/base/fd.hpp"

#include <linux/filter.h>
#include <seccomp.h>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr unsigned syscall_argument_count = 6;

    scmp_arg_cmp to_comparison(ArgMatch const& match)
    {
        return scmp_arg_cmp { match.index, SCMP_CMP_MASKED_EQ, match.mask, match.value };
    }

    Result<void> check_arguments(SyscallRule const& rule, std::vector<ArgMatch> const& matches)
    {
        for (auto const& match : matches) {
            if (match.index >= syscall_argument_count)
                return fail("seccomp rule for " + std::string(rule.name) + " tests argument "
                    + std::to_string(match.index) + "; syscalls have " + std::to_string(syscall_argument_count));
        }
        return {};
    }

    Result<void> add_rule(scmp_filter_ctx context, int number, SyscallRule const& rule, std::vector<scmp_arg_cmp> cmps)
    {
        int rc = seccomp_rule_add_exact_array(
            context, SCMP_ACT_ALLOW, number, static_cast<unsigned>(cmps.size()), cmps.empty() ? nullptr : cmps.data());
        if (rc < 0)
            return fail_errno("libseccomp refused the rule for " + std::string(rule.name), -rc);
        return {};
    }
} // namespace

void SeccompFilter::Releaser::operator()(void* context) const { seccomp_release(context); }

Result<SeccompFilter> SeccompFilter::create(AllowList rules)
{
    scmp_filter_ctx raw = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (raw == nullptr)
        return fail("libseccomp cannot create a filter (seccomp_init failed)");
    SeccompFilter filter { std::unique_ptr<void, Releaser>(raw) };
    // A syscall made through another ABI (int 0x80, x32) must not slip past the x86-64 list.
    if (int rc = seccomp_attr_set(raw, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
        return fail_errno("seccomp_attr_set(ACT_BADARCH)", -rc);

    std::set<std::string_view> seen;
    for (auto const& rule : rules) {
        std::string name(rule.name);
        int number = seccomp_syscall_resolve_name(name.c_str());
        if (number == __NR_SCMP_ERROR)
            return fail("seccomp allow-list names an unknown syscall \"" + name + "\"");
        if (!seen.insert(rule.name).second)
            return fail("seccomp allow-list names \"" + name + "\" twice");
        TRY(check_arguments(rule, rule.allowed_when));
        TRY(check_arguments(rule, rule.required));

        std::vector<scmp_arg_cmp> required;
        for (auto const& match : rule.required)
            required.push_back(to_comparison(match));
        if (rule.allowed_when.empty()) {
            TRY(add_rule(raw, number, rule, required));
            continue;
        }
        for (auto const& alternative : rule.allowed_when) {
            auto cmps = required;
            cmps.push_back(to_comparison(alternative));
            TRY(add_rule(raw, number, rule, std::move(cmps)));
        }
    }
    return filter;
}

Result<void> SeccompFilter::load() const
{
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    if (int rc = seccomp_load(m_context.get()); rc < 0)
        return fail_errno("loading the seccomp filter", -rc);
    return {};
}

Result<std::vector<sock_filter>> SeccompFilter::bpf_program() const
{
    int raw = ::memfd_create("husk-seccomp-bpf", MFD_CLOEXEC);
    if (raw < 0)
        return fail_errno("memfd_create for the BPF export");
    Fd memory(raw);
    if (int rc = seccomp_export_bpf(m_context.get(), memory.get()); rc < 0)
        return fail_errno("seccomp_export_bpf", -rc);
    off_t size = ::lseek(memory.get(), 0, SEEK_END);
    if (size < 0)
        return fail_errno("lseek on the BPF export");
    if (size % sizeof(sock_filter) != 0)
        return fail("seccomp_export_bpf wrote " + std::to_string(size) + " bytes, not whole BPF instructions");
    std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
    auto bytes = std::span(reinterpret_cast<uint8_t*>(program.data()), static_cast<size_t>(size));
    size_t done = 0;
    while (done < bytes.size()) {
        auto got = ::pread(memory.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return fail_errno("reading the BPF export back");
        done += static_cast<size_t>(got);
    }
    return program;
}

Result<size_t> SeccompFilter::bpf_instruction_count() const
{
    auto program = TRY(bpf_program());
    return program.size();
}

size_t distinct_syscall_count(AllowList rules)
{
    std::set<std::string_view> names;
    for (auto const& rule : rules)
        names.insert(rule.name);
    return names.size();
}

} // namespace husk

// The share capabilities: bounding set, keep-caps, capset per thread. Raw capget/capset (no
// libcap): three 64-bit masks are all this needs.
#include "runtime/jail/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

namespace {
    Result<void> set_thread_capabilities(ThreadCapabilities const& wanted)
    {
        __user_cap_header_struct header { _LINUX_CAPABILITY_VERSION_3, 0 };
        __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] {};
        for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
            data[word].effective = static_cast<uint32_t>(wanted.effective >> (32 * word));
            data[word].permitted = static_cast<uint32_t>(wanted.permitted >> (32 * word));
            data[word].inheritable = static_cast<uint32_t>(wanted.inheritable >> (32 * word));
        }
        if (::syscall(SYS_capset, &header, data) != 0)
            return fail_errno("capset");
        return {};
    }
} // namespace

uint64_t share_capability_mask()
{
    return (1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_FOWNER) | (1ull << CAP_FSETID);
}

Result<ThreadCapabilities> thread_capabilities()
{
    __user_cap_header_struct header { _LINUX_CAPABILITY_VERSION_3, 0 };
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] {};
    if (::syscall(SYS_capget, &header, data) != 0)
        return fail_errno("capget");
    ThreadCapabilities sets;
    for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
        sets.effective |= static_cast<uint64_t>(data[word].effective) << (32 * word);
        sets.permitted |= static_cast<uint64_t>(data[word].permitted) << (32 * word);
        sets.inheritable |= static_cast<uint64_t>(data[word].inheritable) << (32 * word);
    }
    return sets;
}

Result<void> keep_share_capabilities_across_drop()
{
    // Not even a future execve could bring any other capability back.
    for (int capability = 0; capability <= CAP_LAST_CAP; ++capability) {
        if (share_capability_mask() & (1ull << capability))
            continue;
        if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL)
            return fail_errno("dropping capability " + std::to_string(capability) + " from the bounding set");
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        return fail_errno("clearing the ambient capabilities");
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return fail_errno("PR_SET_KEEPCAPS");
    return {};
}

Result<void> raise_share_capabilities()
{
    uint64_t mask = share_capability_mask();
    TRY(set_thread_capabilities({ mask, mask, 0 }));
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return fail_errno("PR_SET_KEEPCAPS off");
    auto now = TRY(thread_capabilities());
    if (now.effective != mask || now.permitted != mask || now.inheritable != 0)
        return fail("the VMM's capabilities are not exactly CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_FSETID");
    return {};
}

Result<void> drop_thread_capabilities()
{
    TRY(set_thread_capabilities({}));
    auto now = TRY(thread_capabilities());
    if (now.effective != 0 || now.permitted != 0)
        return fail("a thread kept capabilities it gave up");
    return {};
}

} // namespace husk

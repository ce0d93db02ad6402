// Dispatch to the per-kind lists, and the memory rules every kind shares: glibc's allocator
// maps, grows, trims and frees heap memory on any thread, and never needs executable pages.
#include "runtime/jail/allow_lists.hpp"

#include "runtime/jail/allow_lists_detail.hpp"

#include <csignal>
#include <sys/mman.h>
#include <unistd.h>

namespace husk {

std::vector<SyscallRule> allow_list_for(ThreadKind kind)
{
    switch (kind) {
    case ThreadKind::Main:
        return main_thread_allow_list(current_main_thread_values());
    case ThreadKind::Event:
        return event_thread_allow_list();
    case ThreadKind::Vcpu:
        return vcpu_thread_allow_list();
    }
    return {};
}

MainThreadValues current_main_thread_values()
{
    // The kick signal is SIGRTMIN (runtime/kvm/vcpu_kick.cpp).
    return { static_cast<uint32_t>(::getpid()), static_cast<uint32_t>(SIGRTMIN) };
}

void append_memory_rules(std::vector<SyscallRule>& rules)
{
    rules.push_back(
        { "mmap", "malloc: large blocks and per-thread arenas; never executable", { arg_bits_clear(2, PROT_EXEC) } });
    rules.push_back(
        { "mprotect", "malloc: growing a per-thread arena; never executable", { arg_bits_clear(2, PROT_EXEC) } });
    rules.push_back({ "munmap", "free: large blocks; arena and guest-memory tear-down", {} });
    rules.push_back({ "madvise", "free and thread exit: return unused heap and stack pages", {} });
    rules.push_back({ "brk", "malloc: the main arena grows and shrinks the heap", {} });
}

} // namespace husk

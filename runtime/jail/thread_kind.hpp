// ThreadKind: the kinds of thread husk-vmm runs, each with its own seccomp allow-list
// (docs/security.md). A thread installs the filter of its kind on itself.
#pragma once

#include <optional>
#include <string_view>

namespace husk {

enum class ThreadKind {
    Main, // setup, then the supervisor loop: stop requests, host signals, timers, joins, report
    Event, // the io_uring EventLoop and every device backend on it
    Vcpu, // KVM_RUN and the MMIO/port I/O exits it returns
};

std::string_view thread_kind_name(ThreadKind kind);
// Accepts exactly the names thread_kind_name() returns ("main", "event", "vcpu").
std::optional<ThreadKind> parse_thread_kind(std::string_view name);

} // namespace husk

// ThreadKind names, as used in logs and by the test-only forbidden-syscall hook.
#include "runtime/jail/thread_kind.hpp"

namespace husk {

std::string_view thread_kind_name(ThreadKind kind)
{
    switch (kind) {
    case ThreadKind::Main:
        return "main";
    case ThreadKind::Event:
        return "event";
    case ThreadKind::Vcpu:
        return "vcpu";
    }
    return "?";
}

std::optional<ThreadKind> parse_thread_kind(std::string_view name)
{
    for (auto kind : { ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu }) {
        if (thread_kind_name(kind) == name)
            return kind;
    }
    return std::nullopt;
}

} // namespace husk

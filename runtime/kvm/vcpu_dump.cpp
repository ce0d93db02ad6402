// Human-readable vCPU state for --debug stop reports and exit descriptions for logs.
#include "runtime/kvm/vcpu.hpp"

#include <cinttypes>
#include <cstdio>

namespace husk {

namespace {
    void append_format(std::string& out, char const* format, auto... values)
    {
        char line[160];
        int length = std::snprintf(line, sizeof line, format, values...);
        if (length > 0)
            out.append(line, static_cast<size_t>(length) < sizeof line ? static_cast<size_t>(length) : sizeof line - 1);
    }

    void append_segment(std::string& out, char const* name, kvm_segment const& segment)
    {
        append_format(out, "%s=%04x base=%016" PRIx64 " limit=%08x type=%x l=%u db=%u\n", name, segment.selector,
            static_cast<uint64_t>(segment.base), segment.limit, segment.type, segment.l, segment.db);
    }

    char const* internal_error_name(uint32_t suberror)
    {
        switch (suberror) {
        case KVM_INTERNAL_ERROR_EMULATION:
            return "emulation failure";
        case KVM_INTERNAL_ERROR_SIMUL_EX:
            return "exception while delivering an exception";
        case KVM_INTERNAL_ERROR_DELIVERY_EV:
            return "exit while delivering an event";
        case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
            return "unexpected exit reason";
        default:
            return "unknown suberror";
        }
    }

    char const* system_event_name(uint32_t type)
    {
        switch (type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            return "shutdown";
        case KVM_SYSTEM_EVENT_RESET:
            return "reset";
        case KVM_SYSTEM_EVENT_CRASH:
            return "crash";
        default:
            return "other";
        }
    }
} // namespace

std::string Vcpu::register_dump() const
{
    std::string out;
    append_format(out, "vCPU %u registers:\n", m_index);
    auto regs = get_regs();
    if (!regs) {
        out += "  regs unavailable: " + regs.error().message + "\n";
    } else {
        auto const& r = *regs;
        append_format(out, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", r.rax, r.rbx, r.rcx, r.rdx);
        append_format(out, "rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n", r.rsi, r.rdi, r.rsp, r.rbp);
        append_format(out, "r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", r.r8, r.r9, r.r10, r.r11);
        append_format(out, "r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", r.r12, r.r13, r.r14, r.r15);
        append_format(out, "rip=%016llx rflags=%016llx\n", r.rip, r.rflags);
    }
    auto sregs = get_sregs();
    if (!sregs) {
        out += "  sregs unavailable: " + sregs.error().message + "\n";
    } else {
        auto const& s = *sregs;
        append_format(out, "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n", s.cr0, s.cr2, s.cr3, s.cr4);
        append_format(out, "cr8=%016llx efer=%016llx apic_base=%016llx\n", s.cr8, s.efer, s.apic_base);
        append_segment(out, "cs", s.cs);
        append_segment(out, "ds", s.ds);
        append_segment(out, "es", s.es);
        append_segment(out, "fs", s.fs);
        append_segment(out, "gs", s.gs);
        append_segment(out, "ss", s.ss);
        append_segment(out, "tr", s.tr);
        append_format(out, "gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n", s.gdt.base, s.gdt.limit,
            s.idt.base, s.idt.limit);
    }
    return out;
}

std::string describe_exit(VcpuExit const& exit)
{
    std::string out;
    if (auto const* io = std::get_if<IoExit>(&exit)) {
        append_format(out, "port %s %#x, %u x %u bytes", io->direction == AccessDirection::Write ? "write" : "read",
            io->port, io->count, io->size);
    } else if (auto const* mmio = std::get_if<MmioExit>(&exit)) {
        append_format(out, "MMIO %s %#" PRIx64 ", %zu bytes",
            mmio->direction == AccessDirection::Write ? "write" : "read", mmio->address, mmio->data.size());
    } else if (std::holds_alternative<HltExit>(exit)) {
        out = "HLT";
    } else if (std::holds_alternative<ShutdownExit>(exit)) {
        out = "shutdown (triple fault)";
    } else if (auto const* event = std::get_if<SystemEventExit>(&exit)) {
        append_format(out, "system event %u (%s)", event->type, system_event_name(event->type));
    } else if (auto const* internal = std::get_if<InternalErrorExit>(&exit)) {
        append_format(
            out, "KVM internal error, suberror %u (%s)", internal->suberror, internal_error_name(internal->suberror));
        for (uint32_t i = 0; i < internal->data_count; ++i)
            append_format(out, "%s%#" PRIx64, i == 0 ? ", data " : " ", internal->data[i]);
    } else if (auto const* entry = std::get_if<FailEntryExit>(&exit)) {
        append_format(
            out, "KVM entry failure, hardware reason %#" PRIx64 " on host CPU %u", entry->hardware_reason, entry->cpu);
    } else if (std::holds_alternative<InterruptedExit>(exit)) {
        out = "interrupted";
    } else if (auto const* unknown = std::get_if<UnknownExit>(&exit)) {
        append_format(out, "unhandled KVM exit reason %u", unknown->reason);
    }
    return out;
}

} // namespace husk

// husk-seccomp-compiler: a build-time tool. Compiles each thread kind's allow-list to classic BPF
// with libseccomp (the same SeccompFilter the run-time path uses) and writes the programs as C++
// arrays into the source file named by its argument (precompiled_seccomp.hpp says why). The main
// thread's run-time values, and the share descriptors of the event thread's programs for VMs
// with shares, are compiled as placeholders whose instruction indexes are recorded; the tool
// fails when a placeholder is missing from the program or a value it must not be confused with
// already holds it.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/precompiled_seccomp.hpp"
#include "runtime/jail/seccomp_filter.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace husk;

namespace {

struct Compiled {
    std::vector<sock_filter> program;
    std::vector<uint16_t> pid_slots;
    std::vector<uint16_t> kick_signal_slots;
};

Result<Compiled> compile(ThreadKind kind)
{
    auto rules = kind == ThreadKind::Main
        ? main_thread_allow_list({ seccomp_pid_placeholder, seccomp_kick_signal_placeholder })
        : allow_list_for(kind);
    auto filter = TRY(SeccompFilter::create(rules));
    Compiled compiled { TRY(filter.bpf_program()), {}, {} };
    for (size_t i = 0; i < compiled.program.size(); ++i) {
        if (compiled.program[i].k == seccomp_pid_placeholder)
            compiled.pid_slots.push_back(static_cast<uint16_t>(i));
        if (compiled.program[i].k == seccomp_kick_signal_placeholder)
            compiled.kick_signal_slots.push_back(static_cast<uint16_t>(i));
    }
    bool main = kind == ThreadKind::Main;
    if (main && (compiled.pid_slots.empty() || compiled.kick_signal_slots.empty()))
        return fail("the main thread's program lost a run-time placeholder");
    if (!main && (!compiled.pid_slots.empty() || !compiled.kick_signal_slots.empty()))
        return fail("the " + std::string(thread_kind_name(kind)) + " thread's program holds a placeholder value");
    return compiled;
}

bool is_share_placeholder(uint32_t value)
{
    for (size_t share = 0; share < max_precompiled_shares; ++share) {
        if (value == seccomp_share_root_placeholder(share) || value == seccomp_share_proc_fds_placeholder(share))
            return true;
    }
    return false;
}

struct CompiledShares {
    std::vector<sock_filter> program;
    std::vector<ShareDescriptorSlot> root_slots;
    std::vector<ShareDescriptorSlot> proc_fds_slots;
};

// The event thread's list plus the file-sharing rules of `shares` shares whose descriptors are
// placeholders, as install_seccomp puts them together.
Result<CompiledShares> compile_shares(size_t shares, FileSharingOwners owners)
{
    FileSharingDescriptors placeholders { {}, {}, owners };
    for (size_t share = 0; share < shares; ++share) {
        placeholders.share_roots.push_back(static_cast<int>(seccomp_share_root_placeholder(share)));
        placeholders.proc_fd_directories.push_back(static_cast<int>(seccomp_share_proc_fds_placeholder(share)));
    }
    auto rules = allow_list_for(ThreadKind::Event);
    auto sharing = file_sharing_rules(placeholders.share_roots, placeholders.proc_fd_directories, owners);
    rules.insert(rules.end(), sharing.begin(), sharing.end());
    auto filter = TRY(SeccompFilter::create(rules));
    CompiledShares compiled { TRY(filter.bpf_program()), {}, {} };
    std::vector<bool> root_seen(shares, false), proc_fds_seen(shares, false);
    for (size_t i = 0; i < compiled.program.size(); ++i) {
        uint32_t value = compiled.program[i].k;
        bool placed = false;
        for (size_t share = 0; share < shares; ++share) {
            auto slot = ShareDescriptorSlot { static_cast<uint16_t>(i), static_cast<uint16_t>(share) };
            if (value == seccomp_share_root_placeholder(share)) {
                compiled.root_slots.push_back(slot);
                root_seen[share] = placed = true;
            } else if (value == seccomp_share_proc_fds_placeholder(share)) {
                compiled.proc_fds_slots.push_back(slot);
                proc_fds_seen[share] = placed = true;
            }
        }
        if (!placed && (is_share_placeholder(value) || value == seccomp_pid_placeholder
                || value == seccomp_kick_signal_placeholder))
            return fail("instruction " + std::to_string(i) + " holds a placeholder value no share of "
                + std::to_string(shares) + " has");
    }
    for (size_t share = 0; share < shares; ++share) {
        if (!root_seen[share] || !proc_fds_seen[share])
            return fail("the program lost the descriptor placeholders of rank " + std::to_string(share));
    }
    return compiled;
}

template<typename T>
std::string array(std::string const& type, std::string const& name, std::vector<T> const& values, auto format)
{
    std::ostringstream out;
    out << "    constexpr " << type << " " << name << "[] = {";
    if (values.empty())
        out << " {} "; // a zero-length array is not C++; the span below takes none of it
    for (size_t i = 0; i < values.size(); ++i)
        out << (i % 4 == 0 ? "\n        " : " ") << format(values[i]) << ",";
    out << "\n    };\n";
    return out.str();
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: husk-seccomp-compiler OUTPUT.cpp\n");
        return 2;
    }
    std::ostringstream source;
    source << "// Generated by husk-seccomp-compiler (runtime/jail/seccomp_compiler.cpp) from the allow-lists.\n"
              "// Do not edit: the build regenerates it whenever the lists change.\n"
              "#include \"runtime/jail/precompiled_seccomp.hpp\"\n\nnamespace husk {\n\nnamespace {\n";
    std::ostringstream cases;
    for (auto kind : { ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu }) {
        auto compiled = compile(kind);
        if (!compiled) {
            std::fprintf(stderr, "husk-seccomp-compiler: %s thread: %s\n", std::string(thread_kind_name(kind)).c_str(),
                compiled.error().message.c_str());
            return 1;
        }
        std::string name(thread_kind_name(kind));
        source << array("sock_filter", name + "_program", compiled->program, [](sock_filter const& insn) {
            char text[64];
            std::snprintf(text, sizeof text, "{ 0x%02x, %u, %u, 0x%08x }", insn.code, insn.jt, insn.jf, insn.k);
            return std::string(text);
        });
        auto number = [](uint16_t value) { return std::to_string(value); };
        source << array("uint16_t", name + "_pid_slots", compiled->pid_slots, number);
        source << array("uint16_t", name + "_kick_signal_slots", compiled->kick_signal_slots, number);
        std::string kind_name = name;
        kind_name[0] = static_cast<char>(kind_name[0] - 'a' + 'A');
        cases << "    case ThreadKind::" << kind_name << ":\n        return { " << name << "_program, std::span("
              << name << "_pid_slots, " << compiled->pid_slots.size() << "), std::span(" << name
              << "_kick_signal_slots, " << compiled->kick_signal_slots.size() << ") };\n";
    }
    auto format_slot = [](ShareDescriptorSlot const& slot) {
        return "{ " + std::to_string(slot.instruction) + ", " + std::to_string(slot.rank) + " }";
    };
    std::ostringstream share_cases;
    for (size_t shares = 1; shares <= max_precompiled_shares; ++shares) {
        for (auto owners : { FileSharingOwners::ServerUser, FileSharingOwners::Guest }) {
            bool guest = owners == FileSharingOwners::Guest;
            auto compiled = compile_shares(shares, owners);
            if (!compiled) {
                std::fprintf(stderr, "husk-seccomp-compiler: event thread with %zu shares%s: %s\n", shares,
                    guest ? " (guest owners)" : "", compiled.error().message.c_str());
                return 1;
            }
            std::string name = "event_" + std::to_string(shares) + (guest ? "_guest_owned" : "") + "_shares";
            source << array("sock_filter", name + "_program", compiled->program, [](sock_filter const& insn) {
                char text[64];
                std::snprintf(text, sizeof text, "{ 0x%02x, %u, %u, 0x%08x }", insn.code, insn.jt, insn.jf, insn.k);
                return std::string(text);
            });
            source << array("ShareDescriptorSlot", name + "_root_slots", compiled->root_slots, format_slot);
            source << array("ShareDescriptorSlot", name + "_proc_fds_slots", compiled->proc_fds_slots, format_slot);
            share_cases << "    if (shares == " << shares << " && " << (guest ? "" : "!") << "guest)\n        return { "
                        << name << "_program, " << name << "_root_slots, " << name << "_proc_fds_slots, " << shares
                        << " };\n";
        }
    }
    source << "} // namespace\n\nPrecompiledFilter precompiled_filter(ThreadKind kind)\n{\n    switch (kind) {\n"
           << cases.str() << "    }\n    return {};\n}\n\n"
           << "PrecompiledShareFilter precompiled_share_filter(size_t shares, FileSharingOwners owners)\n{\n"
           << "    bool guest = owners == FileSharingOwners::Guest;\n"
           << share_cases.str() << "    return {};\n}\n\n} // namespace husk\n";

    std::ofstream out(argv[1], std::ios::trunc);
    out << source.str();
    out.close();
    if (!out) {
        std::fprintf(stderr, "husk-seccomp-compiler: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}

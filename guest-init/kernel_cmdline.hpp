// Kernel command line parsing that splits words exactly as Linux does (lib/cmdline.c next_arg and
// kernel/params.c parse_args), so husk-init agrees with the kernel on which words were boot
// parameters and which ones (after ` -- `) the kernel handed to init as the job's argv.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::init {

// One word of the command line after the kernel's quote handling: `name` or `name=value`.
struct KernelArgument {
    std::string name;
    std::optional<std::string> value;

    // The string the kernel puts into init's argv for this word ("name=value" rejoined).
    std::string joined() const;
    bool operator==(KernelArgument const&) const = default;
};

struct KernelCmdline {
    std::vector<KernelArgument> parameters; // words before the first `--`
    // Words between the first `--` and the end (or a second `--`, where the kernel stops too).
    std::vector<std::string> init_arguments;
    bool has_separator { false };
};

KernelCmdline parse_kernel_cmdline(std::string_view text);

// Value of the last `name=value` boot parameter (the kernel lets a later one win); `-` and `_`
// in names compare equal as in the kernel's parameq(). Words after `--` are the job's, never ours.
std::optional<std::string> find_parameter(KernelCmdline const& cmdline, std::string_view name);

// `value` for an error message on one line: bytes below 0x20 and 0x7f become \xNN (a quoted
// parameter value can hold newlines and other control bytes).
std::string printable_value(std::string_view value);

// The test-only crash hook (`husk.test_crash=panic`), see main.cpp.
enum class TestCrashHook { None, Panic };
TestCrashHook test_crash_hook(KernelCmdline const& cmdline);
inline constexpr std::string_view test_crash_parameter = "husk.test_crash";

// The job's argv. The kernel appends the words after `--` at the end of init's argv, but it also
// puts unknown boot parameters without `=` or `.` in front of them; so when /proc/cmdline could be
// read and its words after `--` match the tail of argv, only that tail is the job. Otherwise
// (no cmdline, or a mismatch) argv[1..] is used as given.
std::vector<std::string> job_arguments(std::vector<std::string> const& argv, KernelCmdline const* cmdline);

} // namespace husk::init

// Kernel command line splitting. The algorithm follows the kernel's next_arg() step by step on a
// NUL-terminated copy, because odd quoting ("a"b" c) must split the same way the kernel split it.
#include "guest-init/kernel_cmdline.hpp"

#include <algorithm>
#include <cstring>

namespace husk::init {

namespace {

    // The kernel's isspace(): ASCII whitespace plus Latin-1 non-breaking space (its ctype table).
    constexpr unsigned char latin1_nbsp = 0xa0;
    bool kernel_isspace(char c)
    {
        auto byte = static_cast<unsigned char>(c);
        return byte == ' ' || (byte >= '\t' && byte <= '\r') || byte == latin1_nbsp;
    }

    size_t skip_spaces(std::string const& buffer, size_t at)
    {
        while (buffer[at] != '\0' && kernel_isspace(buffer[at]))
            ++at;
        return at;
    }

    // Mirrors next_arg(): splits the word at `at`, writing NULs into `buffer` like the kernel does,
    // and returns the position of the next word.
    size_t next_argument(std::string& buffer, size_t at, KernelArgument& argument)
    {
        bool in_quote = false;
        bool quoted = false;
        if (buffer[at] == '"') {
            ++at;
            in_quote = quoted = true;
        }
        size_t i = 0;
        size_t equals = 0;
        for (; buffer[at + i] != '\0'; ++i) {
            if (kernel_isspace(buffer[at + i]) && !in_quote)
                break;
            if (equals == 0 && buffer[at + i] == '=')
                equals = i;
            if (buffer[at + i] == '"')
                in_quote = !in_quote;
        }
        size_t value_at = 0;
        if (equals != 0) {
            buffer[at + equals] = '\0';
            value_at = at + equals + 1;
            if (buffer[value_at] == '"') {
                ++value_at;
                if (buffer[at + i - 1] == '"')
                    buffer[at + i - 1] = '\0';
            }
        }
        if (quoted && i > 0 && buffer[at + i - 1] == '"')
            buffer[at + i - 1] = '\0';

        size_t next = at + i;
        if (buffer[next] != '\0') {
            buffer[next] = '\0';
            ++next;
        }
        argument.name = std::string(buffer.c_str() + at);
        if (equals != 0)
            argument.value = std::string(buffer.c_str() + value_at);
        else
            argument.value.reset();
        return skip_spaces(buffer, next);
    }

    bool is_separator(KernelArgument const& argument) { return !argument.value && argument.name == "--"; }

    bool parameter_names_equal(std::string_view a, std::string_view b)
    {
        if (a.size() != b.size())
            return false;
        for (size_t i = 0; i < a.size(); ++i) {
            char x = a[i] == '-' ? '_' : a[i];
            char y = b[i] == '-' ? '_' : b[i];
            if (x != y)
                return false;
        }
        return true;
    }

} // namespace

std::string printable_value(std::string_view value)
{
    constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (char c : value) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            text += "\\x";
            text += digits[byte >> 4];
            text += digits[byte & 0xf];
        } else {
            text += c;
        }
    }
    return text;
}

std::string KernelArgument::joined() const { return value ? name + "=" + *value : name; }

KernelCmdline parse_kernel_cmdline(std::string_view text)
{
    // A NUL inside the text ends the command line for the kernel as well.
    std::string buffer(text.substr(0, text.find('\0')));
    buffer.push_back('\0');

    KernelCmdline cmdline;
    size_t at = skip_spaces(buffer, 0);
    KernelArgument argument;
    while (buffer[at] != '\0') {
        at = next_argument(buffer, at, argument);
        if (is_separator(argument)) {
            if (cmdline.has_separator)
                break; // parse_args() of the init arguments stops at a second `--` too
            cmdline.has_separator = true;
            continue;
        }
        if (cmdline.has_separator)
            cmdline.init_arguments.push_back(argument.joined());
        else
            cmdline.parameters.push_back(argument);
    }
    return cmdline;
}

std::optional<std::string> find_parameter(KernelCmdline const& cmdline, std::string_view name)
{
    std::optional<std::string> found;
    for (auto const& parameter : cmdline.parameters) {
        if (parameter.value && parameter_names_equal(parameter.name, name))
            found = parameter.value;
    }
    return found;
}

TestCrashHook test_crash_hook(KernelCmdline const& cmdline)
{
    auto value = find_parameter(cmdline, test_crash_parameter);
    return value == "panic" ? TestCrashHook::Panic : TestCrashHook::None;
}

std::vector<std::string> job_arguments(std::vector<std::string> const& argv, KernelCmdline const* cmdline)
{
    size_t const given = argv.empty() ? 0 : argv.size() - 1;
    if (cmdline) {
        auto const& expected = cmdline->init_arguments;
        if (expected.size() <= given) {
            auto tail = argv.end() - static_cast<std::ptrdiff_t>(expected.size());
            if (std::equal(expected.begin(), expected.end(), tail))
                return { tail, argv.end() };
        }
    }
    if (given == 0)
        return {};
    return { argv.begin() + 1, argv.end() };
}

} // namespace husk::init

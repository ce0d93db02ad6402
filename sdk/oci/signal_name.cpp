// Signal names and numbers for `kill`.
#include "sdk/oci/signal_name.hpp"

#include <array>
#include <optional>
#include <tuple>
#include <charconv>
#include <csignal>
#include <string>
#include <utility>

namespace husk::oci {

namespace {

    constexpr std::array<std::pair<std::string_view, int>, 31> signal_names { {
        { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
        { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
        { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
        { "SYS", SIGSYS },
    } };

    std::optional<int> parse_number(std::string_view text)
    {
        int value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || text.empty())
            return std::nullopt;
        return value;
    }

} // namespace

Result<int> parse_signal(std::string_view text)
{
    std::string const original(text);
    if (auto number = parse_number(text)) {
        if (*number < 1 || *number > SIGRTMAX)
            return fail(ErrorKind::BadConfig, "invalid signal: " + original);
        return *number;
    }
    std::string upper;
    for (char c : text)
        upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    std::string_view name = upper;
    if (name.starts_with("SIG"))
        name.remove_prefix(3);
    for (auto const& [known, number] : signal_names) {
        if (name == known)
            return number;
    }
    for (auto [prefix, base, direction] : { std::tuple { std::string_view("RTMIN"), SIGRTMIN, 1 },
             std::tuple { std::string_view("RTMAX"), SIGRTMAX, -1 } }) {
        if (!name.starts_with(prefix))
            continue;
        auto rest = name.substr(prefix.size());
        if (rest.empty())
            return base;
        if (rest[0] != (direction > 0 ? '+' : '-'))
            break;
        auto offset = parse_number(rest.substr(1));
        int number = offset ? base + direction * *offset : 0;
        if (!offset || number < SIGRTMIN || number > SIGRTMAX)
            break;
        return number;
    }
    return fail(ErrorKind::BadConfig, "invalid signal: " + original);
}

} // namespace husk::oci

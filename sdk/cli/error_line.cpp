// one_line: the first and last lines of a multi-line error.
#include "sdk/cli/error_line.hpp"

namespace husk::cli {

std::string one_line(std::string const& message)
{
    auto first_end = message.find('\n');
    if (first_end == std::string::npos)
        return message;
    auto last = message.substr(message.rfind('\n') + 1);
    auto text_start = last.find_first_not_of(" \t");
    std::string line = message.substr(0, first_end);
    if (text_start != std::string::npos)
        line += " " + last.substr(text_start);
    return line + " (--verbose shows more)";
}

} // namespace husk::cli

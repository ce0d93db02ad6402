// parse_share_option: HOSTDIR:TAG[,ro|,rw].
#include "runtime/main/share_option.hpp"

namespace husk {

bool is_valid_share_tag(std::string_view tag) { return protocol::is_valid_share_tag(tag); }

Result<ShareOption> parse_share_option(std::string_view text)
{
    auto problem = [&](std::string const& what) {
        return fail("--share " + std::string(text) + ": " + what + " (expected HOSTDIR:TAG[,ro])");
    };
    if (text.find('\0') != std::string_view::npos)
        return fail("--share value contains a NUL byte");
    ShareOption share;
    std::string_view rest = text;
    if (auto comma = rest.rfind(',');
        comma != std::string_view::npos && rest.find(':', comma) == std::string_view::npos) {
        auto flag = rest.substr(comma + 1);
        if (flag != "ro" && flag != "rw")
            return problem("unknown flag '" + std::string(flag) + "' (ro or rw)");
        share.read_only = flag == "ro";
        rest = rest.substr(0, comma);
    }
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
        return problem("missing :TAG");
    auto path = rest.substr(0, colon);
    auto tag = rest.substr(colon + 1);
    if (path.empty() || path.front() != '/')
        return problem("HOSTDIR must be an absolute path");
    if (!is_valid_share_tag(tag))
        return problem("TAG must be 1 to " + std::to_string(max_share_tag_length) + " letters, digits, _ or -");
    share.host_path = std::string(path);
    share.tag = std::string(tag);
    return share;
}

} // namespace husk

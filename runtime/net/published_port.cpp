// parse_published_port: HOST:GUEST[/tcp].
#include "runtime/net/published_port.hpp"

#include <charconv>

namespace husk {

namespace {
    Result<uint16_t> parse_port(std::string_view text, std::string_view whole, char const* which)
    {
        uint32_t port = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || text.size() > 5 || text[0] == '0' || error != std::errc {}
            || end != text.data() + text.size() || port == 0 || port > 65535)
            return fail("--publish \"" + std::string(whole.substr(0, 40)) + "\": the " + which
                + " port must be a number from 1 to 65535");
        return static_cast<uint16_t>(port);
    }
} // namespace

Result<PublishedPort> parse_published_port(std::string_view text)
{
    std::string_view ports = text;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        if (text.substr(slash + 1) != "tcp")
            return fail("--publish \"" + std::string(text.substr(0, 40)) + "\": only TCP ports can be published");
        ports = text.substr(0, slash);
    }
    auto colon = ports.find(':');
    if (colon == std::string_view::npos)
        return fail("--publish \"" + std::string(text.substr(0, 40)) + "\": expected HOST_PORT:GUEST_PORT");
    PublishedPort port;
    port.host_port = TRY(parse_port(ports.substr(0, colon), text, "host"));
    port.guest_port = TRY(parse_port(ports.substr(colon + 1), text, "guest"));
    return port;
}

Result<void> check_published_ports(std::span<PublishedPort const> ports)
{
    if (ports.size() > max_published_ports)
        return fail("more than " + std::to_string(max_published_ports) + " --publish options");
    for (size_t i = 0; i < ports.size(); ++i) {
        for (size_t j = i + 1; j < ports.size(); ++j) {
            if (ports[i].host_port == ports[j].host_port)
                return fail("--publish: host port " + std::to_string(ports[i].host_port) + " is published twice");
        }
    }
    return {};
}

std::string to_string(PublishedPort const& port)
{
    return std::to_string(port.host_port) + ":" + std::to_string(port.guest_port);
}

} // namespace husk

// libFuzzer target for husk-init's network settings: the input is a kernel command line, parsed
// as the kernel splits it, then husk.ip/husk.gw/husk.dns. Properties checked on every input: an
// accepted configuration has a prefix of 1..32, a usable address (not 0/8, loopback, multicast
// or reserved), a gateway inside its subnet and not itself, at most three nameservers, and a
// resolv.conf text of one well-formed `nameserver a.b.c.d` line each; every address prints back
// to text that parses to the same address. A refusal carries a message. Any violation aborts.
#include "guest-init/network_config.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <string_view>

using namespace husk::init;

namespace {

bool usable(Ipv4Address const& address) { return address[0] != 0 && address[0] != 127 && address[0] < 224; }

void require_round_trip(Ipv4Address const& address)
{
    auto again = parse_ipv4_address(format_ipv4_address(address));
    require(again && *again == address);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    auto config = network_config(parse_kernel_cmdline(text));
    if (!config) {
        require(!config.error().message.empty());
        return 0;
    }
    if (!*config)
        return 0;
    auto const& network = **config;
    require(network.prefix_length >= 1 && network.prefix_length <= 32);
    require(usable(network.address));
    require_round_trip(network.address);
    if (network.gateway) {
        require(usable(*network.gateway) && *network.gateway != network.address);
        auto mask = network.netmask();
        for (size_t i = 0; i < 4; ++i)
            require((network.address[i] & mask[i]) == ((*network.gateway)[i] & mask[i]));
    }
    require(network.nameservers.size() <= max_nameservers);
    std::string expected;
    for (auto const& server : network.nameservers) {
        require(usable(server));
        require_round_trip(server);
        expected += "nameserver " + format_ipv4_address(server) + "\n";
    }
    require(resolv_conf_text(network) == expected);
    return 0;
}

// The container NIC's record, its JSON, and the pure look-ups of its address and gateway.
#include "sdk/oci/container_nic.hpp"

#include "sdk/oci/json_fields.hpp"

#include <arpa/inet.h>
#include <charconv>

namespace husk::oci {

Result<std::optional<InterfaceAddress>> address_for_the_vm(std::vector<InterfaceAddress> const& addresses)
{
    std::optional<InterfaceAddress> chosen;
    for (auto const& address : addresses) {
        if (address.loopback)
            continue;
        if (chosen)
            return fail(ErrorKind::BadConfig,
                "the container's network namespace has more than one IPv4 address (" + chosen->interface + " "
                    + to_string(chosen->address) + ", " + address.interface + " " + to_string(address.address)
                    + "): husk-oci gives the VM one NIC with one address");
        chosen = address;
    }
    return chosen;
}

namespace {
    // One hexadecimal column of /proc/net/route: addresses are __be32 printed with %08X, the
    // flags %04X.
    Result<uint32_t> route_word(std::string_view text)
    {
        uint32_t value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
        if (error != std::errc() || end != text.data() + text.size() || text.size() > 8)
            return fail("route table: '" + std::string(text) + "' is not a hexadecimal word");
        return value;
    }

    std::vector<std::string_view> columns(std::string_view line)
    {
        std::vector<std::string_view> found;
        size_t at = 0;
        while (at < line.size()) {
            auto start = line.find_first_not_of(" \t", at);
            if (start == std::string_view::npos)
                break;
            auto end = line.find_first_of(" \t", start);
            if (end == std::string_view::npos)
                end = line.size();
            found.push_back(line.substr(start, end - start));
            at = end;
        }
        return found;
    }
} // namespace

Result<std::optional<Ipv4Address>> default_gateway(std::string_view route_table, std::string_view interface)
{
    constexpr unsigned route_up = 0x1; // RTF_UP
    constexpr unsigned route_gateway = 0x2; // RTF_GATEWAY
    constexpr size_t iface_column = 0, destination_column = 1, gateway_column = 2, flags_column = 3, mask_column = 7;
    bool header = true;
    while (!route_table.empty()) {
        auto newline = route_table.find('\n');
        auto line = route_table.substr(0, newline);
        route_table = newline == std::string_view::npos ? std::string_view() : route_table.substr(newline + 1);
        if (header) {
            header = false;
            continue;
        }
        auto fields = columns(line);
        if (fields.empty())
            continue;
        if (fields.size() <= mask_column)
            return fail("route table: a line with " + std::to_string(fields.size()) + " columns, not 11");
        auto destination = TRY(route_word(fields[destination_column]));
        auto gateway = TRY(route_word(fields[gateway_column]));
        auto flags = TRY(route_word(fields[flags_column]));
        auto mask = TRY(route_word(fields[mask_column]));
        if (fields[iface_column] == interface && destination == 0 && mask == 0 && (flags & route_up)
            && (flags & route_gateway))
            return std::optional<Ipv4Address>(Ipv4Address { ntohl(gateway) });
    }
    return std::optional<Ipv4Address>();
}

TapNetwork tap_network_for(ContainerNic const& nic)
{
    return TapNetwork { nic.netns, nic_tap_name, nic.mac, nic.address, nic.gateway };
}

std::string nic_to_json(ContainerNic const& nic)
{
    Json json = { { "netns", nic.netns }, { "netnsDevice", nic.netns_device }, { "netnsInode", nic.netns_inode },
        { "interface", nic.interface }, { "mac", nic.mac }, { "address", nic.address }, { "gateway", nic.gateway } };
    return json.dump();
}

Result<ContainerNic> parse_nic(std::string_view json_text)
{
    auto document = TRY(parse_json_document(json_text, nic_record_file));
    auto fields = TRY(JsonFields::of(document, ""));
    ContainerNic nic;
    nic.netns = TRY(fields.string("netns"));
    auto device = TRY(fields.optional_uint("netnsDevice", UINT64_MAX));
    auto inode = TRY(fields.optional_uint("netnsInode", UINT64_MAX));
    if (!device || !inode)
        return fail(ErrorKind::BadConfig, std::string(nic_record_file) + ": netnsDevice and netnsInode are required");
    nic.netns_device = *device;
    nic.netns_inode = *inode;
    nic.interface = TRY(fields.string("interface"));
    nic.mac = TRY(fields.string("mac"));
    nic.address = TRY(fields.string("address"));
    nic.gateway = TRY(fields.string("gateway"));
    if (nic.netns.empty() || nic.netns[0] != '/' || nic.interface.empty())
        return fail(ErrorKind::BadConfig, std::string(nic_record_file) + ": netns must be absolute, interface non-empty");
    return nic;
}

} // namespace husk::oci

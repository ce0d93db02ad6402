// parse_net_tap_option: the tap name, then key=value settings, each at most once.
#include "runtime/main/net_tap_option.hpp"

#include "runtime/main/value_parsing.hpp"
#include "runtime/net/mac_address.hpp"
#include "runtime/net/tap_device.hpp"

#include <charconv>

namespace husk {

namespace {
    // Decimal with an optional K, M or G (×1024ⁿ), within [1, maximum].
    Result<uint64_t> parse_rate(std::string_view text, uint64_t maximum)
    {
        uint64_t multiplier = 1;
        if (!text.empty()) {
            switch (text.back()) {
            case 'k':
            case 'K':
                multiplier = 1ull << 10;
                break;
            case 'm':
            case 'M':
                multiplier = 1ull << 20;
                break;
            case 'g':
            case 'G':
                multiplier = 1ull << 30;
                break;
            default:
                break;
            }
            if (multiplier != 1)
                text.remove_suffix(1);
        }
        auto number = parse_bounded_integer(text, 1, maximum);
        if (!number)
            return unexpected(std::move(number).error());
        if (*number > maximum / multiplier)
            return fail("rate " + std::string(text) + " with its suffix exceeds " + std::to_string(maximum));
        return *number * multiplier;
    }

    TokenBucketConfig per_second(uint64_t rate) { return TokenBucketConfig { rate, 0, std::chrono::seconds(1) }; }
} // namespace

namespace {
    // `,KEY=VALUE...` after the tap name or the stream: each setting at most once.
    Result<void> parse_settings(std::string_view option, std::string_view text, NetConfig& config)
    {
        auto comma = text.find(',');
        bool seen[5] = {};
        while (comma != std::string_view::npos) {
            auto rest = text.substr(comma + 1);
            comma = rest.find(',');
            auto setting = rest.substr(0, comma);
            text = rest;
            auto equals = setting.find('=');
            if (equals == std::string_view::npos)
                return fail(std::string(option) + ": '" + std::string(setting) + "' is not KEY=VALUE");
            auto key = setting.substr(0, equals);
            auto value = setting.substr(equals + 1);
            size_t slot = 0;
            Result<void> applied {};
            if (key == "mac") {
                slot = 0;
                auto mac = parse_mac_address(value);
                if (mac)
                    config.mac = *mac;
                else
                    applied = unexpected(std::move(mac).error());
            } else if (key == "rx-bytes" || key == "tx-bytes") {
                slot = key == "rx-bytes" ? 1 : 2;
                auto rate = parse_rate(value, max_net_rate_bytes);
                if (rate)
                    (slot == 1 ? config.rx_limit : config.tx_limit).bytes = per_second(*rate);
                else
                    applied = unexpected(std::move(rate).error());
            } else if (key == "rx-pps" || key == "tx-pps") {
                slot = key == "rx-pps" ? 3 : 4;
                auto rate = parse_bounded_integer(value, 1, max_net_rate_packets);
                if (rate)
                    (slot == 3 ? config.rx_limit : config.tx_limit).packets = per_second(*rate);
                else
                    applied = unexpected(std::move(rate).error());
            } else {
                return fail(std::string(option) + ": unknown setting '" + std::string(key)
                    + "' (mac, rx-bytes, tx-bytes, rx-pps or tx-pps)");
            }
            if (!applied)
                return fail(std::string(option) + " " + std::string(key) + ": " + applied.error().message);
            if (seen[slot])
                return fail(std::string(option) + ": " + std::string(key) + " given more than once");
            seen[slot] = true;
        }
        return {};
    }
} // namespace

Result<NetConfig> parse_net_tap_option(std::string_view text)
{
    NetConfig config;
    auto name = text.substr(0, text.find(','));
    if (!is_valid_interface_name(name))
        return fail("--net-tap: '" + std::string(name)
            + "' is not a tap name (1-15 bytes; no '/', ':', ',' or spaces): NAME[,mac=..][,rx-bytes=..]...");
    config.tap_name = std::string(name);
    TRY(parse_settings("--net-tap", text, config));
    return config;
}

Result<NetConfig> parse_net_stream_option(std::string_view text)
{
    NetConfig config;
    config.backend = NetConfig::Backend::Stream;
    auto target = text.substr(0, text.find(','));
    if (target.starts_with("fd=")) {
        auto fd = parse_bounded_integer(target.substr(3), 0, max_net_stream_fd);
        if (!fd)
            return fail("--net-stream: '" + std::string(target) + "': " + fd.error().message);
        config.stream_fd = static_cast<int>(*fd);
    } else if (target.starts_with("/") && target.size() < max_net_stream_path_length
        && target.find('\0') == std::string_view::npos) {
        config.stream_path = std::string(target);
    } else {
        return fail("--net-stream: '" + std::string(target) + "' is neither fd=N nor an absolute socket path (below "
            + std::to_string(max_net_stream_path_length) + " bytes): fd=N|PATH[,mac=..][,rx-bytes=..]...");
    }
    TRY(parse_settings("--net-stream", text, config));
    return config;
}

} // namespace husk

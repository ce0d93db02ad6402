// Refresh: clock, entropy, hostname, eth0's addresses.
#include "guest-init/agent/guest_refresh.hpp"

#include "guest-init/network_config.hpp"
#include "guest-init/network_setup.hpp"

#include "runtime/base/fd.hpp"

#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

namespace husk::agent {

namespace {
    Result<void> set_clock(uint64_t realtime_ns)
    {
        timespec time { static_cast<time_t>(realtime_ns / 1'000'000'000),
            static_cast<long>(realtime_ns % 1'000'000'000) };
        if (::clock_settime(CLOCK_REALTIME, &time) < 0)
            return fail_errno("clock_settime");
        return {};
    }

    Result<void> reseed(std::vector<uint8_t> const& entropy)
    {
        auto random = TRY(Fd::open("/dev/urandom", O_WRONLY | O_CLOEXEC));
        if (!entropy.empty()) {
            // struct rand_pool_info ends in a flexible array: build it in a buffer.
            std::vector<uint8_t> buffer(sizeof(rand_pool_info) + entropy.size());
            auto* info = reinterpret_cast<rand_pool_info*>(buffer.data());
            info->entropy_count = static_cast<int>(entropy.size() * 8);
            info->buf_size = static_cast<int>(entropy.size());
            std::memcpy(buffer.data() + sizeof(rand_pool_info), entropy.data(), entropy.size());
            if (::ioctl(random.get(), RNDADDENTROPY, info) < 0)
                return fail_errno("RNDADDENTROPY");
        }
        // Without this the kernel would go on drawing from the state it shares with the other
        // copies until its next scheduled reseed, up to a minute later.
        if (::ioctl(random.get(), RNDRESEEDCRNG) < 0)
            return fail_errno("RNDRESEEDCRNG");
        return {};
    }
    // Down first: Linux drops eth0's routes and neighbour entries (the old gateway's MAC belongs
    // to the snapshotted VM's tap), then the boot's own steps with the new values.
    Result<void> move_eth0(std::string const& words)
    {
        auto config = TRY(init::refreshed_network_config(words));
        TRY(init::take_down(init::guest_interface));
        TRY(init::configure_interface(init::guest_interface, config));
        TRY(init::write_resolv_conf(config));
        return {};
    }
} // namespace

Result<void> apply_refresh(protocol::Refresh const& refresh)
{
    if (refresh.realtime_ns != 0)
        TRY(set_clock(refresh.realtime_ns));
    TRY(reseed(refresh.entropy));
    if (!refresh.hostname.empty() && ::sethostname(refresh.hostname.data(), refresh.hostname.size()) < 0)
        return fail_errno("sethostname");
    if (!refresh.network.empty())
        TRY_CONTEXT(move_eth0(refresh.network), "eth0");
    return {};
}

} // namespace husk::agent

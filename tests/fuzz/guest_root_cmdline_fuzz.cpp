// libFuzzer target for husk-init's root and share parameters: the input is a kernel command line,
// parsed as the kernel splits it, then husk.root=/husk.rootfstype= (root_switch) and every
// husk.mount= (share_mounts). Properties checked on every input: a refusal is one non-empty line
// naming its parameter; an accepted disk root is /dev/ plus a plain lower-case name on ext4; an
// accepted 9p root has a valid tag and is written in place only when the value ends in :rw; every
// accepted share mount has a valid tag and a guest path that passes the shared path rules. Any
// violation aborts.
#include "guest-init/protocol/share_names.hpp"
#include "guest-init/root_switch.hpp"
#include "guest-init/share_mounts.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <string_view>

using namespace husk;
using namespace husk::init;

namespace {

void require_one_line_naming(Error const& error, std::string_view parameter)
{
    require(!error.message.empty());
    require(error.message.find('\n') == std::string::npos);
    require(error.message.find(parameter) != std::string::npos);
}

void check_root(KernelCmdline const& cmdline)
{
    auto config = root_config(cmdline);
    if (!config) {
        require_one_line_naming(config.error(), "husk.root");
        return;
    }
    auto value = find_parameter(cmdline, root_parameter);
    if (!*config) {
        require(!value);
        return;
    }
    require(value.has_value());
    auto const& root = **config;
    if (root.kind == RootKind::Disk) {
        require(root.device.starts_with("/dev/") && root.device.size() > 5);
        require(root.device.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789", 5) == std::string::npos);
        require(root.filesystem == "ext4");
        require(root.writes == RootWrites::PrivateOverlay);
        return;
    }
    require(protocol::is_valid_share_tag(root.share_tag));
    require(root.filesystem == "9p");
    require((root.writes == RootWrites::InPlace) == value->ends_with(":rw"));
    require(*value == "9p:" + root.share_tag || *value == "9p:" + root.share_tag + ":rw"
        || *value == "9p:" + root.share_tag + ":ro");
}

void check_mounts(KernelCmdline const& cmdline)
{
    auto mounts = share_mounts(cmdline);
    if (!mounts) {
        require_one_line_naming(mounts.error(), "husk.mount");
        return;
    }
    for (auto const& mount : *mounts) {
        require(protocol::is_valid_share_tag(mount.tag));
        require(protocol::guest_mount_path_problem(mount.path).empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    auto cmdline = parse_kernel_cmdline(text);
    check_root(cmdline);
    check_mounts(cmdline);
    return 0;
}

// The guest's root: parameter parsing, the read-only mount and the tmpfs-backed overlay (or the
// writable 9p mount), and the switch.
#include "guest-init/root_switch.hpp"

#include "guest-init/protocol/share_names.hpp"
#include "guest-init/share_mounts.hpp"

#include <array>
#include <cerrno>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::init {

namespace {

    // Where the pieces live on the initramfs while the switch is under way. They stay mounted
    // there afterwards, hidden below the new root (the overlay keeps them busy anyway).
    constexpr char const* staging = "/.husk";
    constexpr char const* lower_dir = "/.husk/lower";
    constexpr char const* layer_dir = "/.husk/layer"; // tmpfs holding upper/ and work/
    constexpr char const* upper_dir = "/.husk/layer/upper";
    constexpr char const* work_dir = "/.husk/layer/work";
    constexpr char const* new_root = "/.husk/root";

    // Mounts that follow PID 1 into the new root; /dev carries /dev/pts with it.
    constexpr std::array moved_mounts { "/proc", "/sys", "/dev", "/tmp", "/run" };

    bool is_plain_device_name(std::string_view name)
    {
        if (name.empty() || name.size() > 32)
            return false;
        for (char c : name) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!ok)
                return false;
        }
        return true;
    }

    Result<void> make_directory(char const* path, mode_t mode)
    {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
            return fail_errno(std::string("cannot create ") + path);
        return {};
    }

    Result<void> mount_at(
        char const* source, char const* target, char const* filesystem, unsigned long flags, std::string const& data)
    {
        if (mount(source, target, filesystem, flags, data.empty() ? nullptr : data.c_str()) < 0)
            return fail_errno(std::string("cannot mount ") + source + " (" + filesystem + ") on " + target);
        return {};
    }

    // husk.root=9p:TAG[:rw|:ro] (the prefix already taken off).
    Result<RootConfig> share_root_config(std::string_view value)
    {
        auto problem = [&](std::string_view what) {
            return fail(std::string(root_parameter) + "=" + std::string(share_root_prefix) + printable_value(value)
                + ": " + std::string(what) + " (expected 9p:TAG or 9p:TAG:rw)");
        };
        RootConfig config;
        config.kind = RootKind::Share;
        config.filesystem = "9p";
        std::string_view tag = value;
        if (auto colon = value.find(':'); colon != std::string_view::npos) {
            auto flag = value.substr(colon + 1);
            if (flag != "rw" && flag != "ro")
                return problem("unknown flag (rw, or ro: the default)");
            config.writes = flag == "rw" ? RootWrites::InPlace : RootWrites::PrivateOverlay;
            tag = value.substr(0, colon);
        }
        if (!protocol::is_valid_share_tag(tag))
            return problem("TAG must be 1 to 32 letters, digits, _ or -");
        config.share_tag = std::string(tag);
        return config;
    }

    // husk.root=/dev/<name>.
    Result<RootConfig> disk_root_config(std::string const& device)
    {
        constexpr std::string_view dev_prefix = "/dev/";
        if (!device.starts_with(dev_prefix)
            || !is_plain_device_name(std::string_view(device).substr(dev_prefix.size())))
            return fail("husk.root=" + printable_value(device)
                + ": expected /dev/<name> with a lower-case device name such as /dev/vda, or 9p:TAG[:rw]");
        RootConfig config;
        config.device = device;
        return config;
    }

    // The base layer read-only under a tmpfs-backed overlay at new_root.
    Result<void> mount_private_overlay(RootConfig const& config)
    {
        TRY(make_directory(lower_dir, 0755));
        TRY(make_directory(layer_dir, 0755));
        // The shared base: read-only, so the image file or directory may back many guests at once.
        // noatime: a read-only mount writes no access times anyway, and the option keeps that
        // explicit.
        if (config.kind == RootKind::Disk)
            TRY(mount_at(config.device.c_str(), lower_dir, config.filesystem.c_str(), MS_RDONLY | MS_NOATIME, ""));
        else
            TRY(mount_at(
                config.share_tag.c_str(), lower_dir, "9p", MS_RDONLY | MS_NOATIME, share_mount_options_read_only));
        // The guest's private writes live in RAM and vanish with the VM.
        TRY(mount_at("tmpfs", layer_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
        TRY(make_directory(upper_dir, 0755));
        TRY(make_directory(work_dir, 0755));
        return mount_at("overlay", new_root, "overlay", MS_NOATIME,
            std::string("lowerdir=") + lower_dir + ",upperdir=" + upper_dir + ",workdir=" + work_dir);
    }

} // namespace

std::string RootConfig::describe() const
{
    return kind == RootKind::Disk ? "disk root " + device : "shared root " + share_tag;
}

Result<std::optional<RootConfig>> root_config(KernelCmdline const& cmdline)
{
    auto value = find_parameter(cmdline, root_parameter);
    if (!value)
        return std::optional<RootConfig>();
    auto filesystem = find_parameter(cmdline, root_fstype_parameter);
    if (value->starts_with(share_root_prefix)) {
        if (filesystem)
            return fail("husk.rootfstype=" + printable_value(*filesystem)
                + ": only disk roots take a filesystem type, not husk.root=" + printable_value(*value));
        return std::optional<RootConfig>(
            TRY(share_root_config(std::string_view(*value).substr(share_root_prefix.size()))));
    }
    auto config = TRY(disk_root_config(*value));
    if (filesystem) {
        if (*filesystem != "ext4")
            return fail("husk.rootfstype=" + printable_value(*filesystem) + ": only ext4 disk roots are supported");
        config.filesystem = *filesystem;
    }
    return std::optional<RootConfig>(config);
}

Result<void> switch_root(RootConfig const& config)
{
    TRY(make_directory(staging, 0700));
    TRY(make_directory(new_root, 0755));
    if (config.writes == RootWrites::InPlace) {
        // The host directory itself, written through: what the guest changes, the host sees.
        TRY(mount_at(config.share_tag.c_str(), new_root, "9p", MS_NOATIME, share_mount_options_writable));
    } else {
        TRY(mount_private_overlay(config));
    }

    for (auto const* source : moved_mounts) {
        std::string target = std::string(new_root) + source;
        if (mkdir(target.c_str(), 0755) < 0 && errno != EEXIST)
            return fail_errno("cannot create " + target);
        if (mount(source, target.c_str(), nullptr, MS_MOVE, nullptr) < 0)
            return fail_errno(std::string("cannot move ") + source + " into the new root");
    }

    // The switch_root sequence: make the new root "/" and enter it.
    if (chdir(new_root) < 0)
        return fail_errno("cannot enter the new root");
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0)
        return fail_errno("cannot move the new root onto /");
    if (chroot(".") < 0)
        return fail_errno("cannot chroot into the new root");
    if (chdir("/") < 0)
        return fail_errno("cannot chdir to the new /");
    return {};
}

} // namespace husk::init

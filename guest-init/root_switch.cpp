// Disk root: parameter parsing, the read-only mount, the tmpfs-backed overlay and the switch.
#include "guest-init/root_switch.hpp"

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

} // namespace

Result<std::optional<RootConfig>> root_config(KernelCmdline const& cmdline)
{
    auto device = find_parameter(cmdline, root_parameter);
    if (!device)
        return std::optional<RootConfig>();
    constexpr std::string_view dev_prefix = "/dev/";
    if (!device->starts_with(dev_prefix) || !is_plain_device_name(std::string_view(*device).substr(dev_prefix.size())))
        return fail("husk.root=" + *device + ": expected /dev/<name> with a lower-case device name such as /dev/vda");
    RootConfig config;
    config.device = *device;
    if (auto filesystem = find_parameter(cmdline, root_fstype_parameter)) {
        if (*filesystem != "ext4")
            return fail("husk.rootfstype=" + *filesystem + ": only ext4 disk roots are supported");
        config.filesystem = *filesystem;
    }
    return std::optional<RootConfig>(config);
}

Result<void> switch_to_disk_root(RootConfig const& config)
{
    TRY(make_directory(staging, 0700));
    TRY(make_directory(lower_dir, 0755));
    TRY(make_directory(layer_dir, 0755));
    TRY(make_directory(new_root, 0755));

    // The shared base: read-only, so the image file may back many guests at once. noatime: a
    // read-only mount writes no access times anyway, and the option keeps that explicit.
    TRY(mount_at(config.device.c_str(), lower_dir, config.filesystem.c_str(), MS_RDONLY | MS_NOATIME, ""));
    // The guest's private writes live in RAM and vanish with the VM.
    TRY(mount_at("tmpfs", layer_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
    TRY(make_directory(upper_dir, 0755));
    TRY(make_directory(work_dir, 0755));
    TRY(mount_at("overlay", new_root, "overlay", MS_NOATIME,
        std::string("lowerdir=") + lower_dir + ",upperdir=" + upper_dir + ",workdir=" + work_dir));

    for (auto const* source : moved_mounts) {
        std::string target = std::string(new_root) + source;
        if (mkdir(target.c_str(), 0755) < 0 && errno != EEXIST)
            return fail_errno("cannot create " + target);
        if (mount(source, target.c_str(), nullptr, MS_MOVE, nullptr) < 0)
            return fail_errno(std::string("cannot move ") + source + " into the disk root");
    }

    // The switch_root sequence: make the new root "/" and enter it.
    if (chdir(new_root) < 0)
        return fail_errno("cannot enter the disk root");
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0)
        return fail_errno("cannot move the disk root onto /");
    if (chroot(".") < 0)
        return fail_errno("cannot chroot into the disk root");
    if (chdir("/") < 0)
        return fail_errno("cannot chdir to the new /");
    return {};
}

} // namespace husk::init

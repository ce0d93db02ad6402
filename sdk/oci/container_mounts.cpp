// config.json mounts → shares, the guest's own mounts, warnings and refusals.
#include "sdk/oci/container_mounts.hpp"

#include "guest-init/protocol/share_names.hpp"

#include <algorithm>
#include <sys/stat.h>

namespace husk::oci {

namespace {

    // A VM has at most 8 shares (sdk/src/mounts.hpp); the container's rootfs takes one.
    constexpr size_t max_shares = 7;

    struct GuestOwnMount {
        std::string_view type;
        std::string_view destination;
    };
    // Mounted by husk-init in every guest (guest-init/mounts.cpp), so the container has them.
    constexpr GuestOwnMount guest_own_mounts[] = {
        { "proc", "/proc" },
        { "sysfs", "/sys" },
        { "tmpfs", "/dev" },
        { "devpts", "/dev/pts" },
        { "tmpfs", "/dev/shm" },
        { "tmpfs", "/tmp" },
        { "tmpfs", "/run" },
    };
    // The engines' bind mounts of single files: the container sees its image's own files instead.
    constexpr std::string_view engine_file_destinations[]
        = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv" };

    bool has_option(OciMount const& mount, std::string_view option)
    {
        return std::find(mount.options.begin(), mount.options.end(), option) != mount.options.end();
    }

    bool is_bind(OciMount const& mount)
    {
        return mount.type == "bind" || has_option(mount, "bind") || has_option(mount, "rbind");
    }

    std::string describe(OciMount const& mount, size_t index)
    {
        return "mounts[" + std::to_string(index) + "] (" + (mount.type.empty() ? "bind" : mount.type) + " "
            + (mount.source.empty() ? "" : mount.source + " ") + "on " + mount.destination + ")";
    }

    Unexpected<Error> refuse(OciMount const& mount, size_t index, std::string const& why)
    {
        return unexpected(Error { describe(mount, index) + ": " + why, 0, ErrorKind::BadConfig });
    }

    std::string trimmed(std::string path)
    {
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
        return path;
    }

} // namespace

Result<ContainerMounts> plan_container_mounts(
    std::vector<OciMount> const& mounts, std::function<HostFileKind(std::string const&)> const& kind_of)
{
    ContainerMounts plan;
    for (size_t i = 0; i < mounts.size(); ++i) {
        auto const& mount = mounts[i];
        auto destination = trimmed(mount.destination);
        bool guest_own = std::any_of(std::begin(guest_own_mounts), std::end(guest_own_mounts), [&](auto const& own) {
            return own.destination == destination && (own.type == mount.type || own.destination == "/dev/shm");
        });
        if (guest_own)
            continue; // a bind of the engine's shm directory too: the guest's /dev/shm is its own
        if (mount.type == "mqueue" && destination == "/dev/mqueue") {
            plan.not_applied.push_back(
                describe(mount, i) + ": not applied, the guest kernel has no POSIX message queues");
            continue;
        }
        if ((mount.type == "cgroup" || mount.type == "cgroup2") && destination == "/sys/fs/cgroup") {
            plan.not_applied.push_back(
                describe(mount, i) + ": not applied, the VM is the container's resource boundary");
            continue;
        }
        if (!is_bind(mount))
            return refuse(mount, i,
                "husk-oci cannot apply it (it applies bind mounts of directories, and proc, sysfs, devpts and tmpfs at "
                "their usual places)");
        if (mount.source.empty() || mount.source.front() != '/')
            return refuse(mount, i, "a bind mount needs an absolute source");
        auto source = trimmed(mount.source);
        switch (kind_of(source)) {
        case HostFileKind::Missing:
            return refuse(mount, i, "the source does not exist");
        case HostFileKind::Other:
            return refuse(mount, i, "the source is neither a directory nor a file");
        case HostFileKind::File: {
            bool engine_file
                = std::find(std::begin(engine_file_destinations), std::end(engine_file_destinations), destination)
                != std::end(engine_file_destinations);
            if (!engine_file)
                return refuse(mount, i, "husk shares directories with the VM, not single files");
            plan.not_applied.push_back(describe(mount, i) + ": not applied, the container sees its image's own file");
            continue;
        }
        case HostFileKind::Directory:
            break;
        }
        if (auto problem = protocol::guest_mount_path_problem(destination); !problem.empty())
            return refuse(mount, i, std::string(problem));
        if (mount.source.find('\0') != std::string::npos)
            return refuse(mount, i, "the source holds a NUL byte");
        if (plan.shares.size() == max_shares)
            return refuse(mount, i, "at most " + std::to_string(max_shares) + " directories can be shared with a VM");
        // The last of ro and rw counts, as in runc.
        bool read_only = false;
        for (auto const& option : mount.options) {
            if (option == "ro")
                read_only = true;
            else if (option == "rw")
                read_only = false;
        }
        // As runc: the container's users own what they create, container root may write any file.
        plan.shares.push_back(Mount { source, destination, read_only, ShareOwners::Guest });
    }
    return plan;
}

HostFileKind host_file_kind(std::string const& path)
{
    struct stat st { };
    if (::stat(path.c_str(), &st) != 0)
        return HostFileKind::Missing;
    if (S_ISDIR(st.st_mode))
        return HostFileKind::Directory;
    if (S_ISREG(st.st_mode))
        return HostFileKind::File;
    return HostFileKind::Other;
}

} // namespace husk::oci

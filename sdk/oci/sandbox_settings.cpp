// Container config → SandboxOptions and StartOptions.
#include "sdk/oci/sandbox_settings.hpp"

#include "husk/units.hpp"

#include <algorithm>
#include <charconv>

namespace husk::oci {

Result<SandboxOptions> sandbox_options_for(
    OciConfig const& config, std::string const& rootfs, std::function<HostFileKind(std::string const&)> const& kind_of)
{
    SandboxOptions options;
    // runc's semantics: the container writes its rootfs in place, as its own users (container
    // root makes root-owned files), so podman cp, diff and commit see the changes on the host.
    // root.readonly keeps the directory unchanged: writes then go to the guest's RAM overlay.
    options.rootfs_dir = rootfs;
    options.rootfs_writes = config.root_readonly ? RootfsWrites::Private : RootfsWrites::InPlace;
    options.rootfs_owners = ShareOwners::Guest;
    options.mounts = TRY(plan_container_mounts(config.mounts, kind_of)).shares;
    // TCG-emulated labs and loaded hosts boot slowly; podman waits on `create` anyway.
    options.boot_timeout = std::chrono::seconds(60);
    if (config.memory_limit)
        options.memory_bytes = std::max(*config.memory_limit, min_container_memory);
    if (config.cpu_quota && config.cpu_period) {
        uint64_t quota = static_cast<uint64_t>(*config.cpu_quota);
        options.vcpus = static_cast<unsigned>(std::clamp<uint64_t>((quota + *config.cpu_period - 1) / *config.cpu_period, 1, 32));
    }
    auto annotation = [&](char const* name) -> std::optional<std::string> {
        auto it = config.annotations.find(name);
        return it == config.annotations.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    if (auto vcpus = annotation(vcpus_annotation)) {
        unsigned value = 0;
        auto [end, error] = std::from_chars(vcpus->data(), vcpus->data() + vcpus->size(), value);
        if (error != std::errc() || end != vcpus->data() + vcpus->size() || value < 1 || value > 32)
            return fail(ErrorKind::BadConfig, std::string(vcpus_annotation) + ": expected 1..32, got \"" + *vcpus + "\"");
        options.vcpus = value;
    }
    if (auto memory = annotation(memory_annotation)) {
        auto bytes = TRY_CONTEXT(units::parse_size(*memory), memory_annotation);
        options.memory_bytes = bytes;
    }
    if (auto timeout = annotation(boot_timeout_annotation))
        options.boot_timeout = TRY_CONTEXT(units::parse_duration(*timeout), boot_timeout_annotation);
    return options;
}

StartOptions start_options_for(OciProcess const& process)
{
    StartOptions options;
    options.env = process.env;
    options.workdir = process.cwd;
    options.uid = process.user.uid;
    options.gid = process.user.gid;
    options.stdin_open = true;
    options.output_limit_bytes = 0;
    return options;
}

} // namespace husk::oci

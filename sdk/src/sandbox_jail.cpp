// SandboxJail: directories, id allocation, leftovers, husk-vmm arguments and cleanup.
#include "sdk/src/sandbox_jail.hpp"

#include "runtime/jail/cgroup.hpp"
#include "runtime/jail/jail_root.hpp"
#include "sdk/src/private_directory.hpp"

namespace husk::detail {

namespace {
    constexpr mode_t state_mode = 0700;
}

std::vector<std::string> jail_vmm_arguments(std::string const& directory, std::string const& id, uint32_t uid)
{
    auto number = std::to_string(uid);
    return { "--jail", directory, "--jail-id", id, "--jail-uid", number, "--jail-gid", number };
}

Result<SandboxJail> SandboxJail::create(JailLayout layout)
{
    auto ids = TRY_CONTEXT(
        open_private_directory(layout.state_base, layout.ids_directory, state_mode), "the jail id directory");
    // Checked here and then handed to husk-vmm by name: it is root's and nobody else can write to
    // it or to anything on the way from state_base, so the name keeps meaning this directory.
    TRY_CONTEXT(
        open_private_directory(layout.state_base, layout.jail_directory, state_mode), "the jail parent directory");
    auto lease = TRY(allocate_jail_id(ids, layout.ids));
    std::string directory = layout.state_base + "/" + layout.jail_directory;
    std::string id = "husk-" + std::to_string(lease.id());
    SandboxJail jail(std::move(layout), std::move(lease), std::move(directory), std::move(id));
    TRY_CONTEXT(jail.clean_up(), "removing what an earlier VM with jail id " + jail.m_id + " left behind");
    return jail;
}

SandboxJail::~SandboxJail()
{
    if (!m_lease.held())
        return;
    (void)clean_up();
    m_lease.release();
}

Result<void> SandboxJail::clean_up()
{
    // The cgroup first: removing it waits until every process in it (the VMM) is gone, and only
    // then can nothing be using the root directory any more.
    auto cgroup = remove_vm_cgroup(m_layout.cgroup_root, m_layout.cgroup_parent, m_id);
    auto directory = remove_jail_directory(m_directory, m_id);
    if (!cgroup)
        return unexpected(std::move(cgroup).error());
    return directory;
}

} // namespace husk::detail

// The namespaces a jailed VMM runs in: its own mount, IPC and UTS namespaces, and either a new
// empty network namespace or a given one (networking on). A new PID namespace only applies to
// children, so the launcher enters it and forks the VMM as its PID 1 (enter_pid_namespace).
#pragma once

#include "runtime/base/result.hpp"

#include <optional>
#include <string>

namespace husk {

struct NamespaceRequest {
    // nullopt: a new, empty network namespace (only loopback, down). Otherwise the path of one
    // to join (/run/netns/NAME or /proc/PID/ns/net); it must really be a network namespace.
    std::optional<std::string> network_namespace;
};

// unshare(mount, IPC, UTS [, network]) and, when asked, setns into the network namespace. The
// mount namespace's propagation is made private, so nothing mounted in the jail leaks back.
Result<void> enter_namespaces(NamespaceRequest const& request);

// unshare(CLONE_NEWPID): the next child forked is PID 1 of a new PID namespace and sees no host
// process. The caller itself stays where it was.
Result<void> enter_pid_namespace();

} // namespace husk

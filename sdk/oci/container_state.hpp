// What husk-oci records about a container in <root>/<id>/state.json, and the OCI state JSON that
// `husk-oci state` prints from it. The record holds the monitor's pid and its start time (from
// /proc/<pid>/stat) so a recycled pid is never taken for a live container.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace husk::oci {

enum class ContainerStatus : uint8_t { Creating, Created, Running, Stopped };

std::string_view status_name(ContainerStatus status);

struct ContainerRecord {
    std::string id;
    std::string bundle;
    std::string rootfs; ///< the rootfs directory on the host
    pid_t pid { 0 }; ///< the monitor: the process the pid file names
    uint64_t pid_start_time { 0 }; ///< field 22 of /proc/<pid>/stat, in clock ticks since boot
    ContainerStatus status { ContainerStatus::Creating };
    std::string created; ///< RFC 3339, UTC, nanoseconds
    std::map<std::string, std::string> annotations;
};

/// state.json as husk-oci writes it (one JSON object).
std::string record_to_json(ContainerRecord const& record);
/// Strict: every field written by record_to_json must be there, with its type.
Result<ContainerRecord> parse_record(std::string_view json_text);

/// The OCI runtime-spec state (ociVersion, id, status, pid, bundle, rootfs, created, owner,
/// annotations), pretty-printed as runc does. `status` is the live status (see ContainerStore).
std::string oci_state_json(ContainerRecord const& record, ContainerStatus status);

/// Now, as RFC 3339 with nanoseconds in UTC ("2026-12-06T14:03:08.123456789Z").
std::string rfc3339_now();

} // namespace husk::oci

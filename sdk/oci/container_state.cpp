// state.json: husk-oci's own record of a container, and the OCI state derived from it.
#include "sdk/oci/container_state.hpp"

#include "sdk/oci/json_fields.hpp"

#include <ctime>

namespace husk::oci {

namespace {

    constexpr char const* spec_version = "1.0.2";

    Result<ContainerStatus> parse_status(std::string const& name)
    {
        for (auto status : { ContainerStatus::Creating, ContainerStatus::Created, ContainerStatus::Running,
                 ContainerStatus::Stopped }) {
            if (status_name(status) == name)
                return status;
        }
        return fail(ErrorKind::BadConfig, "state.json: status: unknown \"" + name + "\"");
    }

} // namespace

std::string_view status_name(ContainerStatus status)
{
    switch (status) {
    case ContainerStatus::Creating:
        return "creating";
    case ContainerStatus::Created:
        return "created";
    case ContainerStatus::Running:
        return "running";
    case ContainerStatus::Stopped:
        return "stopped";
    }
    return "unknown";
}

std::string record_to_json(ContainerRecord const& record)
{
    Json json;
    json["id"] = record.id;
    json["bundle"] = record.bundle;
    json["rootfs"] = record.rootfs;
    json["pid"] = record.pid;
    json["pid_start_time"] = record.pid_start_time;
    json["status"] = std::string(status_name(record.status));
    json["created"] = record.created;
    json["annotations"] = record.annotations;
    return json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<ContainerRecord> parse_record(std::string_view json_text)
{
    auto document = TRY(parse_json_document(json_text, "state.json"));
    auto fields = TRY(JsonFields::of(document, ""));
    ContainerRecord record;
    record.id = TRY(fields.string("id"));
    record.bundle = TRY(fields.string("bundle"));
    record.rootfs = TRY(fields.string("rootfs"));
    auto pid = TRY(fields.optional_uint("pid", INT32_MAX));
    if (!pid)
        return fail(ErrorKind::BadConfig, "state.json: pid: missing");
    record.pid = static_cast<pid_t>(*pid);
    auto start_time = TRY(fields.optional_uint("pid_start_time", UINT64_MAX));
    if (!start_time)
        return fail(ErrorKind::BadConfig, "state.json: pid_start_time: missing");
    record.pid_start_time = *start_time;
    record.status = TRY(parse_status(TRY(fields.string("status"))));
    record.created = TRY(fields.string("created"));
    record.annotations = TRY(fields.optional_string_map("annotations"));
    return record;
}

std::string oci_state_json(ContainerRecord const& record, ContainerStatus status)
{
    nlohmann::ordered_json json;
    json["ociVersion"] = spec_version;
    json["id"] = record.id;
    json["pid"] = status == ContainerStatus::Stopped ? 0 : record.pid;
    json["status"] = std::string(status_name(status));
    json["bundle"] = record.bundle;
    json["rootfs"] = record.rootfs;
    json["created"] = record.created;
    json["owner"] = "";
    if (!record.annotations.empty())
        json["annotations"] = record.annotations;
    return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string rfc3339_now()
{
    timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc {};
    gmtime_r(&now.tv_sec, &utc);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
    char nanos[16];
    snprintf(nanos, sizeof nanos, ".%09ldZ", now.tv_nsec);
    return std::string(date) + nanos;
}

} // namespace husk::oci

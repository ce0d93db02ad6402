// Strict parsing of config.json and process.json into OciConfig / OciProcess.
#include "sdk/oci/oci_config.hpp"

#include "sdk/oci/json_fields.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace husk::oci {

namespace {

    constexpr uint64_t max_id = UINT32_MAX - 1; // (uid_t)-1 means "unchanged" to the kernel

    Result<OciUser> parse_user(JsonFields const& user)
    {
        OciUser parsed;
        parsed.uid = static_cast<uint32_t>(TRY(user.optional_uint("uid", max_id)).value_or(0));
        parsed.gid = static_cast<uint32_t>(TRY(user.optional_uint("gid", max_id)).value_or(0));
        if (user.has("username"))
            return fail(ErrorKind::BadConfig, user.field_path("username") + ": not supported (Windows only)");
        if (user.has("additionalGids")) {
            auto const& gids = user.json()["additionalGids"];
            if (!gids.is_array())
                return fail(ErrorKind::BadConfig, user.field_path("additionalGids") + ": expected an array");
            for (auto const& gid : gids) {
                if (!gid.is_number_unsigned() || gid.get<uint64_t>() > max_id)
                    return fail(ErrorKind::BadConfig, user.field_path("additionalGids") + ": expected group ids");
                parsed.additional_gids.push_back(static_cast<uint32_t>(gid.get<uint64_t>()));
            }
        }
        return parsed;
    }

    Result<void> check_env(std::vector<std::string> const& env, std::string const& path)
    {
        for (auto const& entry : env) {
            auto equals = entry.find('=');
            if (equals == std::string::npos || equals == 0)
                return fail(ErrorKind::BadConfig, path + ": \"" + entry + "\" is not NAME=value");
            if (entry.find('\0') != std::string::npos)
                return fail(ErrorKind::BadConfig, path + ": an entry contains a NUL byte");
        }
        return {};
    }

    Result<OciProcess> parse_process(JsonFields const& process)
    {
        OciProcess parsed;
        parsed.args = TRY(process.optional_strings("args"));
        if (parsed.args.empty())
            return fail(ErrorKind::BadConfig, process.field_path("args") + ": missing or empty");
        if (parsed.args[0].empty())
            return fail(ErrorKind::BadConfig, process.field_path("args") + "[0]: empty");
        for (auto const& arg : parsed.args) {
            if (arg.find('\0') != std::string::npos)
                return fail(ErrorKind::BadConfig, process.field_path("args") + ": an argument contains a NUL byte");
        }
        parsed.env = TRY(process.optional_strings("env"));
        TRY(check_env(parsed.env, process.field_path("env")));
        parsed.cwd = TRY(process.string("cwd"));
        if (parsed.cwd.empty() || parsed.cwd[0] != '/')
            return fail(ErrorKind::BadConfig, process.field_path("cwd") + ": must be an absolute path");
        if (parsed.cwd.find('\0') != std::string::npos)
            return fail(ErrorKind::BadConfig, process.field_path("cwd") + ": contains a NUL byte");
        if (auto user = TRY(process.optional_object("user")))
            parsed.user = TRY(parse_user(*user));
        parsed.terminal = TRY(process.optional_bool("terminal")).value_or(false);
        parsed.no_new_privileges = TRY(process.optional_bool("noNewPrivileges")).value_or(false);
        if (auto size = TRY(process.optional_object("consoleSize"))) {
            TRY(size->optional_uint("height", UINT16_MAX));
            TRY(size->optional_uint("width", UINT16_MAX));
        }
        return parsed;
    }

    // Hooks would run host programs at points husk-oci does not have (the container lives in a VM);
    // a bundle that asks for them is refused rather than run without them.
    Result<void> collect_unsupported(JsonFields const& document, OciConfig& config)
    {
        if (auto hooks = TRY(document.optional_object("hooks"))) {
            for (auto const& [name, list] : hooks->json().items()) {
                if (!list.is_array())
                    return fail(ErrorKind::BadConfig, "hooks." + name + ": expected an array");
                if (!list.empty())
                    config.unsupported_fields.push_back("hooks." + name);
            }
        }
        return {};
    }

    Result<void> parse_resources(JsonFields const& linux_fields, OciConfig& config)
    {
        config.cgroups_path = TRY(linux_fields.optional_string("cgroupsPath")).value_or("");
        auto resources = TRY(linux_fields.optional_object("resources"));
        if (!resources)
            return {};
        if (auto memory = TRY(resources->optional_object("memory"))) {
            // -1 means unlimited in the spec; 0 or absent: not set.
            auto limit = TRY(memory->optional_int("limit"));
            if (limit && *limit > 0)
                config.memory_limit = static_cast<uint64_t>(*limit);
        }
        if (auto cpu = TRY(resources->optional_object("cpu"))) {
            auto quota = TRY(cpu->optional_int("quota"));
            auto period = TRY(cpu->optional_uint("period", UINT32_MAX));
            if (quota && *quota > 0 && period && *period > 0) {
                config.cpu_quota = quota;
                config.cpu_period = period;
            }
        }
        return {};
    }

    // linux.namespaces: [{type, path?}]. Only the network entry's path matters to a VM.
    Result<void> parse_namespaces(JsonFields const& linux_fields, OciConfig& config)
    {
        if (!linux_fields.has("namespaces"))
            return {};
        auto const& list = linux_fields.json()["namespaces"];
        if (list.is_null())
            return {};
        if (!list.is_array())
            return fail(ErrorKind::BadConfig, linux_fields.field_path("namespaces") + ": expected an array");
        for (size_t i = 0; i < list.size(); ++i) {
            auto entry = TRY(JsonFields::of(list[i], linux_fields.field_path("namespaces") + "[" + std::to_string(i) + "]"));
            auto type = TRY(entry.string("type"));
            auto path = TRY(entry.optional_string("path"));
            if (type != "network" || !path || path->empty())
                continue;
            if (config.network_namespace)
                return fail(ErrorKind::BadConfig, entry.field_path("type") + ": a second network namespace");
            if ((*path)[0] != '/' || path->find('\0') != std::string::npos)
                return fail(ErrorKind::BadConfig, entry.field_path("path") + ": must be an absolute path");
            config.network_namespace = *path;
        }
        return {};
    }

} // namespace

Result<OciConfig> parse_oci_config(std::string_view json_text)
{
    if (json_text.size() > max_config_bytes)
        return fail(ErrorKind::BadConfig, "config.json: larger than " + std::to_string(max_config_bytes) + " bytes");
    auto document = TRY(parse_json_document(json_text, "config.json"));
    auto fields = TRY(JsonFields::of(document, ""));
    OciConfig config;
    config.oci_version = TRY(fields.string("ociVersion"));
    if (!config.oci_version.starts_with("1."))
        return fail(ErrorKind::BadConfig, "ociVersion: " + config.oci_version + " is not a 1.x runtime-spec version");
    auto process = TRY(fields.optional_object("process"));
    if (!process)
        return fail(ErrorKind::BadConfig, "process: missing (husk-oci has nothing to run without it)");
    config.process = TRY(parse_process(*process));
    auto root = TRY(fields.optional_object("root"));
    if (!root)
        return fail(ErrorKind::BadConfig, "root: missing");
    config.root_path = TRY(root->string("path"));
    if (config.root_path.empty() || config.root_path.find('\0') != std::string::npos)
        return fail(ErrorKind::BadConfig, "root.path: empty or contains a NUL byte");
    config.root_readonly = TRY(root->optional_bool("readonly")).value_or(false);
    config.hostname = TRY(fields.optional_string("hostname")).value_or("");
    config.annotations = TRY(fields.optional_string_map("annotations"));
    if (auto linux_fields = TRY(fields.optional_object("linux"))) {
        TRY(parse_resources(*linux_fields, config));
        TRY(parse_namespaces(*linux_fields, config));
    }
    TRY(collect_unsupported(fields, config));
    // What husk-oci does with each mount is container_mounts.cpp's business; here only its shape.
    if (fields.has("mounts")) {
        auto const& mounts = document["mounts"];
        if (!mounts.is_array())
            return fail(ErrorKind::BadConfig, "mounts: expected an array");
        for (size_t i = 0; i < mounts.size(); ++i) {
            auto mount = TRY(JsonFields::of(mounts[i], "mounts[" + std::to_string(i) + "]"));
            auto destination = TRY(mount.string("destination"));
            if (destination.empty() || destination[0] != '/')
                return fail(ErrorKind::BadConfig, mount.field_path("destination") + ": must be an absolute path");
            OciMount parsed;
            parsed.destination = destination;
            parsed.source = TRY(mount.optional_string("source")).value_or("");
            parsed.type = TRY(mount.optional_string("type")).value_or("");
            parsed.options = TRY(mount.optional_strings("options"));
            config.mounts.push_back(std::move(parsed));
        }
    }
    return config;
}

Result<OciProcess> parse_oci_process(std::string_view json_text)
{
    if (json_text.size() > max_config_bytes)
        return fail(ErrorKind::BadConfig, "process.json: larger than " + std::to_string(max_config_bytes) + " bytes");
    auto document = TRY(parse_json_document(json_text, "process.json"));
    auto fields = TRY(JsonFields::of(document, ""));
    return parse_process(fields);
}

Result<std::string> read_small_file(std::string const& path)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_errno("cannot open " + path);
    std::string content;
    char buffer[65536];
    while (true) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return fail_errno("cannot read " + path, err);
        }
        if (n == 0)
            break;
        content.append(buffer, static_cast<size_t>(n));
        if (content.size() > max_config_bytes) {
            close(fd);
            return fail(ErrorKind::BadConfig, path + ": larger than " + std::to_string(max_config_bytes) + " bytes");
        }
    }
    close(fd);
    return content;
}

Result<OciConfig> load_bundle_config(std::string const& bundle)
{
    auto text = TRY(read_small_file(bundle + "/config.json"));
    return TRY_CONTEXT(parse_oci_config(text), bundle + "/config.json");
}

std::string rootfs_directory(std::string const& bundle, OciConfig const& config)
{
    if (config.root_path.starts_with("/"))
        return config.root_path;
    return bundle + "/" + config.root_path;
}

} // namespace husk::oci

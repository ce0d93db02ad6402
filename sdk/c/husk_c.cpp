// The C ABI over the C++ SDK: handles are heap objects holding the C++ values.
#include "sdk/c/husk.h"

#include "husk/exit_status.hpp"
#include "husk/sandbox.hpp"
#include "husk/version.hpp"

#include <cstdio>
#include <new>
#include <optional>
#include <string>

struct husk_sandbox {
    husk::Sandbox sandbox;
};
struct husk_result {
    husk::RunResult result;
};
struct husk_error {
    husk::Error error;
};

namespace {

int report(husk::Error error, husk_error** out)
{
    if (out)
        *out = new (std::nothrow) husk_error { std::move(error) };
    return -1;
}

std::string text(char const* value) { return value ? value : ""; }

// Fields beyond what the caller's struct version has are read as zero.
template<typename Config, typename Field>
bool has_field(Config const* config, Field Config::*field)
{
    auto offset = reinterpret_cast<size_t>(&(static_cast<Config const*>(nullptr)->*field));
    return config && config->size >= offset + sizeof(Field);
}

std::optional<husk::JailMode> jail_mode_from(int32_t value)
{
    switch (value) {
    case HUSK_JAIL_AUTO:
        return husk::JailMode::Auto;
    case HUSK_JAIL_REQUIRED:
        return husk::JailMode::Required;
    case HUSK_JAIL_OFF:
        return husk::JailMode::Off;
    }
    return std::nullopt;
}

// Converts a C array element by element; NULL with a non-zero count is refused.
template<typename Element, typename Convert>
husk::Result<void> append_array(char const* name, Element const* items, size_t count, Convert convert)
{
    if (!items && count)
        return husk::unexpected({ std::string("husk_sandbox_config.") + name + " is NULL with a non-zero count", 0,
            husk::ErrorKind::BadConfig });
    for (size_t i = 0; i < count; ++i)
        convert(items[i]);
    return {};
}

husk::Result<husk::SandboxOptions> options_from(husk_sandbox_config const* config)
{
    husk::SandboxOptions options;
    if (has_field(config, &husk_sandbox_config::vmm_path))
        options.vmm_path = text(config->vmm_path);
    if (has_field(config, &husk_sandbox_config::kernel_path))
        options.kernel_path = text(config->kernel_path);
    if (has_field(config, &husk_sandbox_config::initrd_path))
        options.initrd_path = text(config->initrd_path);
    if (has_field(config, &husk_sandbox_config::vcpus) && config->vcpus)
        options.vcpus = config->vcpus;
    if (has_field(config, &husk_sandbox_config::memory_bytes) && config->memory_bytes)
        options.memory_bytes = config->memory_bytes;
    if (has_field(config, &husk_sandbox_config::boot_timeout_ms) && config->boot_timeout_ms)
        options.boot_timeout = std::chrono::milliseconds(config->boot_timeout_ms);
    if (has_field(config, &husk_sandbox_config::rootfs_path))
        options.rootfs_path = text(config->rootfs_path);
    if (has_field(config, &husk_sandbox_config::jail)) {
        auto jail = jail_mode_from(config->jail);
        if (!jail)
            return husk::unexpected({ "husk_sandbox_config.jail is " + std::to_string(config->jail)
                    + ": not a husk_jail_mode (HUSK_JAIL_AUTO, HUSK_JAIL_REQUIRED or HUSK_JAIL_OFF)",
                0, husk::ErrorKind::BadConfig });
        options.jail = *jail;
    }
    if (has_field(config, &husk_sandbox_config::mount_count)) {
        HUSK_TRY(append_array("mounts", config->mounts, config->mount_count, [&](husk_mount const& mount) {
            options.mounts.push_back({ text(mount.host), text(mount.guest), mount.read_only != 0 });
        }));
    }
    if (has_field(config, &husk_sandbox_config::network) && config->network)
        options.network = config->network;
    if (has_field(config, &husk_sandbox_config::publish_count)) {
        HUSK_TRY(append_array("publish", config->publish, config->publish_count, [&](husk_port_mapping const& mapping) {
            options.publish.push_back({ mapping.host_port, mapping.guest_port });
        }));
    }
    if (has_field(config, &husk_sandbox_config::dns_server_count)) {
        HUSK_TRY(append_array("dns_servers", config->dns_servers, config->dns_server_count,
            [&](char const* server) { options.dns_servers.push_back(text(server)); }));
    }
    if (has_field(config, &husk_sandbox_config::rootfs_dir))
        options.rootfs_dir = text(config->rootfs_dir);
    if (has_field(config, &husk_sandbox_config::rootfs_dir_writable) && config->rootfs_dir_writable)
        options.rootfs_writes = husk::RootfsWrites::InPlace;
    return options;
}

int hand_out(husk::Result<husk::Sandbox> made, husk_sandbox** sandbox, husk_error** error)
{
    if (!made)
        return report(std::move(made).error(), error);
    *sandbox = new (std::nothrow) husk_sandbox { std::move(*made) };
    return *sandbox ? 0 : report({ "out of memory" }, error);
}

} // namespace

extern "C" {

int husk_sandbox_create(husk_sandbox_config const* config, husk_sandbox** sandbox, husk_error** error)
{
    if (!sandbox)
        return report({ "husk_sandbox_create: sandbox is NULL", 0, husk::ErrorKind::BadConfig }, error);
    auto options = options_from(config);
    if (!options)
        return report(std::move(options).error(), error);
    return hand_out(husk::Sandbox::create(std::move(*options)), sandbox, error);
}

int husk_sandbox_run(husk_sandbox* sandbox, char const* const* argv, size_t argc, husk_run_config const* config,
    husk_result** result, husk_error** error)
{
    if (!sandbox || !result || (!argv && argc))
        return report({ "husk_sandbox_run: NULL argument", 0, husk::ErrorKind::BadConfig }, error);
    std::vector<std::string> arguments;
    for (size_t i = 0; i < argc; ++i)
        arguments.push_back(text(argv[i]));
    husk::RunOptions options;
    if (has_field(config, &husk_run_config::env_count) && config->env) {
        for (size_t i = 0; i < config->env_count; ++i)
            options.env.push_back(text(config->env[i]));
    }
    if (has_field(config, &husk_run_config::workdir))
        options.workdir = text(config->workdir);
    if (has_field(config, &husk_run_config::timeout_ms) && config->timeout_ms)
        options.timeout = std::chrono::milliseconds(config->timeout_ms);
    if (has_field(config, &husk_run_config::stdin_size) && config->stdin_data)
        options.stdin_data.assign(static_cast<char const*>(config->stdin_data), config->stdin_size);
    auto ran = sandbox->sandbox.run(std::move(arguments), options);
    if (!ran)
        return report(std::move(ran).error(), error);
    *result = new (std::nothrow) husk_result { std::move(*ran) };
    return *result ? 0 : report({ "out of memory" }, error);
}

int husk_sandbox_write_file(
    husk_sandbox* sandbox, char const* path, void const* data, size_t size, uint32_t mode, husk_error** error)
{
    if (!sandbox || !path || (!data && size))
        return report({ "husk_sandbox_write_file: NULL argument", 0, husk::ErrorKind::BadConfig }, error);
    auto written = sandbox->sandbox.write_file(path, std::string_view(static_cast<char const*>(data), size), mode);
    return written ? 0 : report(std::move(written).error(), error);
}

int husk_sandbox_detach(husk_sandbox* sandbox, char* directory, size_t directory_size, husk_error** error)
{
    if (!sandbox || !directory || directory_size < HUSK_DIRECTORY_MAX)
        return report({ "husk_sandbox_detach: NULL handle or a directory buffer under HUSK_DIRECTORY_MAX bytes", 0,
                          husk::ErrorKind::BadConfig },
            error);
    auto detached = sandbox->sandbox.detach();
    if (!detached)
        return report(std::move(detached).error(), error);
    std::snprintf(directory, directory_size, "%s", detached->directory.c_str());
    delete sandbox;
    return 0;
}

int husk_sandbox_connect(
    char const* directory, husk_sandbox_config const* config, husk_sandbox** sandbox, husk_error** error)
{
    if (!directory || !sandbox)
        return report({ "husk_sandbox_connect: directory or sandbox is NULL", 0, husk::ErrorKind::BadConfig }, error);
    husk::SandboxOptions options;
    if (has_field(config, &husk_sandbox_config::boot_timeout_ms) && config->boot_timeout_ms)
        options.boot_timeout = std::chrono::milliseconds(config->boot_timeout_ms);
    auto connected = husk::Sandbox::connect(directory, std::move(options));
    if (!connected)
        return report(std::move(connected).error(), error);
    *sandbox = new (std::nothrow) husk_sandbox { std::move(*connected) };
    return *sandbox ? 0 : report({ "out of memory" }, error);
}

int husk_sandbox_snapshot(husk_sandbox* sandbox, char const* directory, husk_error** error)
{
    if (!sandbox || !directory)
        return report({ "husk_sandbox_snapshot: NULL argument", 0, husk::ErrorKind::BadConfig }, error);
    auto taken = sandbox->sandbox.snapshot(directory);
    return taken ? 0 : report(std::move(taken).error(), error);
}

int husk_sandbox_restore(
    char const* directory, husk_sandbox_config const* config, husk_sandbox** sandbox, husk_error** error)
{
    if (!directory || !sandbox)
        return report({ "husk_sandbox_restore: directory or sandbox is NULL", 0, husk::ErrorKind::BadConfig }, error);
    auto options = options_from(config);
    if (!options)
        return report(std::move(options).error(), error);
    return hand_out(husk::Sandbox::restore(directory, std::move(*options)), sandbox, error);
}

int husk_sandbox_jailed(husk_sandbox const* sandbox) { return sandbox && sandbox->sandbox.jailed() ? 1 : 0; }

void husk_sandbox_destroy(husk_sandbox* sandbox) { delete sandbox; }

husk_run_status husk_result_status(husk_result const* result)
{
    return static_cast<husk_run_status>(static_cast<int>(result->result.status));
}
int husk_result_exit_code(husk_result const* result) { return result->result.exit_code; }
int husk_result_signal(husk_result const* result) { return result->result.signal; }
int husk_result_exit_status(husk_result const* result) { return husk::docker_exit_status(result->result); }
char const* husk_result_stdout(husk_result const* result, size_t* size)
{
    if (size)
        *size = result->result.stdout_data.size();
    return result->result.stdout_data.c_str();
}
char const* husk_result_stderr(husk_result const* result, size_t* size)
{
    if (size)
        *size = result->result.stderr_data.size();
    return result->result.stderr_data.c_str();
}
int husk_result_stdout_truncated(husk_result const* result) { return result->result.stdout_truncated; }
int husk_result_stderr_truncated(husk_result const* result) { return result->result.stderr_truncated; }
uint64_t husk_result_duration_us(husk_result const* result)
{
    return static_cast<uint64_t>(result->result.guest_duration.count());
}
void husk_result_free(husk_result* result) { delete result; }

enum husk_error_kind husk_error_kind(husk_error const* error)
{
    return static_cast<enum husk_error_kind>(static_cast<int>(error->error.kind));
}
char const* husk_error_message(husk_error const* error) { return error->error.message.c_str(); }
void husk_error_free(husk_error* error) { delete error; }

char const* husk_version(void)
{
    static std::string const version(husk::version());
    return version.c_str();
}

} // extern "C"

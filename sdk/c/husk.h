/* libhusk C ABI: opaque handles over the C++ SDK so other languages can bind husk. Every call
 * that can fail returns 0 on success or -1 and, when `error` is non-NULL, a husk_error the caller
 * frees with husk_error_free. Strings are copied in; returned pointers live as long as their
 * handle. Handles are thread-safe like the C++ objects they wrap (a sandbox: yes). */
#ifndef HUSK_H
#define HUSK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct husk_sandbox husk_sandbox;
typedef struct husk_result husk_result;
typedef struct husk_error husk_error;

/** Error kinds, the same as husk::ErrorKind. */
enum husk_error_kind {
    HUSK_ERROR_OTHER = 0,
    HUSK_ERROR_BAD_CONFIG = 1,
    HUSK_ERROR_VMM_START_FAILED = 2,
    HUSK_ERROR_GUEST_NOT_READY = 3,
    HUSK_ERROR_AGENT_DISCONNECTED = 4,
    HUSK_ERROR_VM_DIED = 5,
    HUSK_ERROR_TIMEOUT = 6,
    HUSK_ERROR_GUEST = 7,
};

/** How a job ended, the same as husk::RunStatus. */
enum husk_run_status {
    HUSK_RUN_EXITED = 0,
    HUSK_RUN_SIGNALED = 1,
    HUSK_RUN_TIMED_OUT = 2,
    HUSK_RUN_SPAWN_FAILED = 3,
};

/** The jail, the same as husk::JailMode; zero is the default. */
enum husk_jail_mode {
    HUSK_JAIL_AUTO = 0, /**< jailed when the process is root, unjailed (seccomp on) otherwise */
    HUSK_JAIL_REQUIRED = 1, /**< creating fails with HUSK_ERROR_BAD_CONFIG unless it can jail */
    HUSK_JAIL_OFF = 2, /**< never jailed: for debugging */
};

/** A host directory shared with the guest (husk::Mount, docs/sharing.md). */
typedef struct husk_mount {
    const char* host; /**< absolute path of an existing host directory */
    const char* guest; /**< absolute path in the guest */
    int32_t read_only; /**< non-zero: the guest cannot change anything in it */
} husk_mount;

/** A host TCP port that reaches a guest port (husk::PortMapping, docker's -p). */
typedef struct husk_port_mapping {
    uint16_t host_port;
    uint16_t guest_port;
} husk_port_mapping;

/** Sandbox settings. Zero or NULL fields take the defaults; set `size` to sizeof the struct so
 * later versions can add fields. An array with a non-zero count must not be NULL. */
typedef struct husk_sandbox_config {
    size_t size;
    const char* vmm_path;
    const char* kernel_path;
    const char* initrd_path;
    uint32_t vcpus;
    uint64_t memory_bytes;
    uint32_t boot_timeout_ms;
    const char* rootfs_path; /**< a root filesystem image (ext4) on a read-only disk; NULL: the initramfs */
    int32_t jail; /**< an enum husk_jail_mode */
    const husk_mount* mounts; /**< at most 8 */
    size_t mount_count;
    /** "none" (NULL: the default), "internet" or "allow=LIST": husk::SandboxOptions::network,
     * docs/network-policy.md. "allow=LIST" needs the jail; "internet" without the jail comes from
     * passt, with no policy. */
    const char* network;
    const husk_port_mapping* publish;
    size_t publish_count;
    const char* const* dns_servers; /**< IPv4 addresses; none: the host's resolvers */
    size_t dns_server_count;
    /** A host directory as the guest's root instead of rootfs_path (docs/sharing.md). */
    const char* rootfs_dir;
    /** Non-zero: the guest writes rootfs_dir in place; zero: into a private overlay in its RAM. */
    int32_t rootfs_dir_writable;
} husk_sandbox_config;

/** Job settings; NULL for defaults. */
typedef struct husk_run_config {
    size_t size;
    const char* const* env; /**< "NAME=value" entries */
    size_t env_count;
    const char* workdir;
    uint32_t timeout_ms; /**< 0: none */
    const void* stdin_data;
    size_t stdin_size;
} husk_run_config;

int husk_sandbox_create(const husk_sandbox_config* config, husk_sandbox** sandbox, husk_error** error);
/** Runs argv[0..argc) to completion. A non-zero exit is a result, not an error. */
int husk_sandbox_run(husk_sandbox* sandbox, const char* const* argv, size_t argc, const husk_run_config* config,
    husk_result** result, husk_error** error);
int husk_sandbox_write_file(husk_sandbox* sandbox, const char* path, const void* data, size_t size, uint32_t mode,
    husk_error** error);
/** Lets the VM run on without the handle (see husk::Sandbox::detach): on success the handle is
 * freed and the sandbox's directory, for husk_sandbox_connect, is written to `directory`
 * (NUL-terminated), which must hold at least HUSK_DIRECTORY_MAX bytes. */
#define HUSK_DIRECTORY_MAX 4096
int husk_sandbox_detach(husk_sandbox* sandbox, char* directory, size_t directory_size, husk_error** error);
/** Takes over a detached sandbox (see husk::Sandbox::connect); `config` may be NULL (only its
 * boot_timeout_ms is used). */
int husk_sandbox_connect(const char* directory, const husk_sandbox_config* config, husk_sandbox** sandbox,
    husk_error** error);
/** Writes a snapshot of the running VM into `directory` (husk::Sandbox::snapshot,
 * docs/snapshots.md); the sandbox keeps running. */
int husk_sandbox_snapshot(husk_sandbox* sandbox, const char* directory, husk_error** error);
/** Starts a new sandbox from a snapshot instead of booting (husk::Sandbox::restore): the snapshot
 * decides vcpus and memory_bytes; mounts and rootfs_dir must be the snapshot's (their host
 * directories may be others, e.g. copies); `config` may be NULL. */
int husk_sandbox_restore(const char* directory, const husk_sandbox_config* config, husk_sandbox** sandbox,
    husk_error** error);
/** 1 when the sandbox's VMM runs jailed (own uid, namespaces, cgroup), 0 otherwise or for NULL. */
int husk_sandbox_jailed(const husk_sandbox* sandbox);
/** Stops the VM and frees the handle; NULL is ignored. */
void husk_sandbox_destroy(husk_sandbox* sandbox);

enum husk_run_status husk_result_status(const husk_result* result);
int husk_result_exit_code(const husk_result* result); /**< -1 unless EXITED */
int husk_result_signal(const husk_result* result); /**< 0 unless SIGNALED or TIMED_OUT */
/** The docker-style exit status: the code, 128+signal, 126, 127 or 125. */
int husk_result_exit_status(const husk_result* result);
const char* husk_result_stdout(const husk_result* result, size_t* size);
const char* husk_result_stderr(const husk_result* result, size_t* size);
int husk_result_stdout_truncated(const husk_result* result);
int husk_result_stderr_truncated(const husk_result* result);
uint64_t husk_result_duration_us(const husk_result* result); /**< guest-measured */
void husk_result_free(husk_result* result);

enum husk_error_kind husk_error_kind(const husk_error* error);
const char* husk_error_message(const husk_error* error);
void husk_error_free(husk_error* error);

/** "0.1.0" */
const char* husk_version(void);

#ifdef __cplusplus
}
#endif

#endif

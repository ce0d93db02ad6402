// The typed messages of the husk job protocol and `Message`, the variant of all of them. Field
// order in each struct is the wire order; every variable-size field is u32-length-prefixed and
// every enum's numbers are wire ABI (start at 1, so an all-zero payload is never a valid enum).
// The rules each message must satisfy are enforced by decode_message() and validate_message().
#pragma once

#include "guest-init/protocol/limits.hpp"
#include "guest-init/protocol/message_type.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace husk::protocol {

// Hello capability bits. Unknown bits are accepted and ignored: each side uses the intersection,
// which lets a newer peer advertise more without breaking an older one.
enum class Capability : uint64_t {
    Exec = 1 << 0,
    Stdin = 1 << 1,
    Files = 1 << 2,
    Rlimits = 1 << 3,
    // The agent applies Refresh::network (a restored clone's own addresses). A host that needs
    // it checks this bit first, so an older agent is told apart from a failure.
    RefreshNetwork = 1 << 4,
};
inline constexpr uint64_t capability_bit(Capability capability) { return static_cast<uint64_t>(capability); }

inline constexpr uint32_t max_signal_number = 64; // Linux _NSIG - 1
inline constexpr uint32_t max_exit_code = 255;
inline constexpr uint32_t max_file_mode = 07777; // permission, setuid/setgid and sticky bits

enum class OutputStream : uint8_t { Stdout = 1, Stderr = 2 };
enum class ExitKind : uint8_t {
    Code = 1, // value: exit code 0..255
    Signal = 2, // value: the signal that killed it, 1..64
    TimedOut = 3, // value: the signal the agent killed it with after timeout_ms, 1..64
};
// Values 1..5 match status_port::SpawnError, so husk-init can forward them unchanged.
enum class SpawnError : uint32_t {
    NotFound = 1,
    PermissionDenied = 2,
    NotExecutable = 3,
    BadCwd = 4,
    Other = 5,
    BadUser = 6,
    ResourceLimit = 7,
};
// Linux RLIMIT_* numbers (x86-64 and generic ABI), the same on both ends of the protocol.
enum class RlimitResource : uint32_t {
    Cpu = 0,
    FileSize = 1,
    Data = 2,
    Stack = 3,
    Core = 4,
    Rss = 5,
    Nproc = 6,
    Nofile = 7,
    Memlock = 8,
    AddressSpace = 9,
    Locks = 10,
    SigPending = 11,
    MsgQueue = 12,
    Nice = 13,
    RtPrio = 14,
    RtTime = 15,
};
inline constexpr uint32_t rlimit_resource_count = 16;
inline constexpr uint64_t rlimit_infinity = ~uint64_t { 0 }; // RLIM_INFINITY
enum class FileKind : uint8_t { Regular = 1, Directory = 2, Symlink = 3, Other = 4 };
enum class ErrorCode : uint32_t {
    NotFound = 1,
    PermissionDenied = 2,
    AlreadyExists = 3,
    NotADirectory = 4,
    IsADirectory = 5,
    NotEmpty = 6,
    NoSpace = 7,
    InvalidArgument = 8,
    Unsupported = 9,
    Io = 10,
    Protocol = 11, // the peer broke the protocol; the connection is closed after this
    Internal = 12,
};

// --- Connection (correlation id 0) ---
struct Hello {
    static constexpr MessageType type = MessageType::Hello;
    uint16_t version { protocol_version }; // highest version the host speaks, >= 1
    uint64_t capabilities { 0 };
    bool operator==(Hello const&) const = default;
};
struct HelloReply {
    static constexpr MessageType type = MessageType::HelloReply;
    uint16_t version { protocol_version }; // version the agent chose, >= 1
    uint64_t capabilities { 0 };
    bool operator==(HelloReply const&) const = default;
};
struct Ping {
    static constexpr MessageType type = MessageType::Ping;
    uint64_t nonce { 0 };
    bool operator==(Ping const&) const = default;
};
struct Pong {
    static constexpr MessageType type = MessageType::Pong;
    uint64_t nonce { 0 }; // the Ping's nonce
    bool operator==(Pong const&) const = default;
};
struct Shutdown {
    static constexpr MessageType type = MessageType::Shutdown;
    bool operator==(Shutdown const&) const = default;
};
// Sent first on a connection to a VM restored from a snapshot, which runs on as an exact copy of
// the snapshotted guest: the agent sets CLOCK_REALTIME to `realtime_ns` (ns since the epoch),
// mixes `entropy` into the kernel's pool and reseeds its RNG (so clones of one snapshot never
// share random numbers), and sets the hostname (empty: left as is). `network`, when not empty,
// is eth0's new settings in the words husk-init reads from the kernel command line at boot
// (husk.ip=ADDR/PREFIX husk.gw=ADDR [husk.dns=ADDR[,ADDR...]]), checked by the same parser: the
// agent moves eth0 to them (Capability::RefreshNetwork). It is on the wire only when not empty,
// so a Refresh without it is byte for byte what older agents read. Answered by Ack or ErrorReply.
struct Refresh {
    static constexpr MessageType type = MessageType::Refresh;
    uint64_t realtime_ns { 0 };
    std::vector<uint8_t> entropy {}; // <= max_refresh_entropy_size
    std::string hostname {}; // <= max_hostname_size: letters, digits, '-', '.'
    std::string network {}; // <= max_refresh_network_size: printable ASCII
    bool operator==(Refresh const&) const = default;
};

// --- Jobs (correlation id = the job) ---
struct Rlimit {
    RlimitResource resource { RlimitResource::Nofile };
    uint64_t soft { 0 }; // <= hard
    uint64_t hard { 0 };
    bool operator==(Rlimit const&) const = default;
};
struct Exec {
    static constexpr MessageType type = MessageType::Exec;
    std::vector<std::string> argv {}; // non-empty, argv[0] non-empty; no NULs; PATH lookup by agent
    std::vector<std::string> env {}; // "NAME=value", NAME non-empty; no NULs
    std::string cwd {}; // absolute, or empty for the agent's default
    uint32_t uid { 0 };
    uint32_t gid { 0 };
    bool stdin_open { false }; // false: stdin is /dev/null and Stdin messages are rejected
    uint32_t timeout_ms { 0 }; // 0: no timeout
    uint64_t output_limit_bytes { 0 }; // per stream; output beyond it is dropped. 0: no limit
    std::vector<Rlimit> rlimits {}; // at most one per resource
    bool operator==(Exec const&) const = default;
};
struct Stdin {
    static constexpr MessageType type = MessageType::Stdin;
    std::vector<uint8_t> data {}; // <= max_chunk_size
    bool operator==(Stdin const&) const = default;
};
struct StdinClose {
    static constexpr MessageType type = MessageType::StdinClose;
    bool operator==(StdinClose const&) const = default;
};
struct Output {
    static constexpr MessageType type = MessageType::Output;
    OutputStream stream { OutputStream::Stdout };
    std::vector<uint8_t> data {}; // raw bytes, <= max_chunk_size
    bool operator==(Output const&) const = default;
};
struct Signal {
    static constexpr MessageType type = MessageType::Signal;
    uint32_t signo { 0 }; // 1..64
    bool operator==(Signal const&) const = default;
};
struct Exited {
    static constexpr MessageType type = MessageType::Exited;
    ExitKind kind { ExitKind::Code };
    uint32_t value { 0 }; // see ExitKind
    bool stdout_truncated { false };
    bool stderr_truncated { false };
    uint64_t duration_us { 0 };
    bool operator==(Exited const&) const = default;
};
struct SpawnFailed {
    static constexpr MessageType type = MessageType::SpawnFailed;
    SpawnError error { SpawnError::Other };
    std::string message {}; // for humans, <= max_string_size
    bool operator==(SpawnFailed const&) const = default;
};

// --- Files (correlation id = the operation). Paths: absolute, no NUL, <= max_path_size. ---
// A file is written as chunks sharing one correlation id; the last has last_chunk set (an empty
// file is one last chunk with no data). Offsets let the writer resume.
struct FileWrite {
    static constexpr MessageType type = MessageType::FileWrite;
    std::string path {};
    uint32_t mode { 0644 }; // <= max_file_mode, used when the file is created
    uint64_t offset { 0 }; // offset + data size must not overflow
    std::vector<uint8_t> data {}; // <= max_chunk_size
    bool last_chunk { true };
    bool operator==(FileWrite const&) const = default;
};
struct FileRead {
    static constexpr MessageType type = MessageType::FileRead;
    std::string path {};
    uint64_t offset { 0 };
    uint32_t max_size { max_chunk_size }; // 1..max_chunk_size
    bool operator==(FileRead const&) const = default;
};
struct FileData {
    static constexpr MessageType type = MessageType::FileData;
    std::vector<uint8_t> data {}; // <= max_chunk_size
    bool eof { false };
    bool operator==(FileData const&) const = default;
};
struct Stat {
    static constexpr MessageType type = MessageType::Stat;
    std::string path {};
    bool operator==(Stat const&) const = default;
};
struct StatReply {
    static constexpr MessageType type = MessageType::StatReply;
    FileKind kind { FileKind::Regular };
    uint64_t size { 0 };
    uint32_t mode { 0 }; // permission bits, <= max_file_mode
    int64_t mtime_ns { 0 }; // since the Unix epoch
    bool operator==(StatReply const&) const = default;
};
struct Mkdir {
    static constexpr MessageType type = MessageType::Mkdir;
    std::string path {};
    uint32_t mode { 0755 }; // <= max_file_mode
    bool parents { false }; // like mkdir -p: create missing parents, accept an existing directory
    bool operator==(Mkdir const&) const = default;
};
struct Remove {
    static constexpr MessageType type = MessageType::Remove;
    std::string path {};
    bool recursive { false };
    bool operator==(Remove const&) const = default;
};

// --- Generic replies ---
struct Ack {
    static constexpr MessageType type = MessageType::Ack;
    bool operator==(Ack const&) const = default;
};
// Called ErrorReply, not Error, so it never shadows husk::Error.
struct ErrorReply {
    static constexpr MessageType type = MessageType::ErrorReply;
    ErrorCode code { ErrorCode::Internal };
    std::string message {}; // for humans, <= max_string_size
    bool operator==(ErrorReply const&) const = default;
};

using Message = std::variant<Hello, HelloReply, Ping, Pong, Shutdown, Refresh, Exec, Stdin, StdinClose, Output, Signal, Exited,
    SpawnFailed, FileWrite, FileRead, FileData, Stat, StatReply, Mkdir, Remove, Ack, ErrorReply>;

MessageType message_type(Message const& message);
std::string_view message_name(Message const& message); // "Exec", as message_type_name() says it

} // namespace husk::protocol

// The message types of the husk job protocol (frame header `type` field) and who may send them.
// Numbers are wire ABI: never renumber, only append. Families are grouped in blocks of 16.
#pragma once

#include <cstdint>
#include <string_view>

namespace husk::protocol {

enum class MessageType : uint16_t {
    // Connection level (correlation id 0).
    Hello = 1,
    HelloReply = 2,
    Ping = 3,
    Pong = 4,
    Shutdown = 5,
    // After a snapshot restore: the host's time, fresh entropy and the clone's hostname.
    Refresh = 6,
    // Jobs.
    Exec = 16,
    Stdin = 17,
    StdinClose = 18,
    Output = 19,
    Signal = 20,
    Exited = 21,
    SpawnFailed = 22,
    // Files.
    FileWrite = 32,
    FileRead = 33,
    FileData = 34,
    Stat = 35,
    StatReply = 36,
    Mkdir = 37,
    Remove = 38,
    // Generic replies, to an operation (id != 0) or to the connection (id 0).
    Ack = 48,
    ErrorReply = 49,
};

// Which correlation ids a message type may carry.
enum class CorrelationScope : uint8_t {
    Connection, // must be 0
    Operation, // must not be 0: it names the exec or file operation
    Any,
};

// Which end of the connection may send a message type. The receiver rejects the others, so a
// guest cannot, say, send Exec to the host.
enum class Sender : uint8_t {
    Host,
    Guest,
    Either,
};

// One end of a connection: the host (SDK) or the guest (husk-init).
enum class Peer : uint8_t {
    Host,
    Guest,
};

bool is_known_message_type(uint16_t type);
std::string_view message_type_name(MessageType type); // "Exec", or "unknown" for bad values
CorrelationScope correlation_scope(MessageType type);
Sender allowed_sender(MessageType type);
bool may_send(Peer peer, MessageType type);

// Payload sizes the header alone must satisfy; lets the frame decoder reject, say, a 1 MiB Ping
// before buffering it. Fixed-size messages have min == max.
struct PayloadBounds {
    uint32_t min { 0 };
    uint32_t max { 0 };
};
PayloadBounds payload_bounds(MessageType type);

} // namespace husk::protocol

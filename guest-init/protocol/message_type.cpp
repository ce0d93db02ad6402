// Per-type facts of the job protocol: names for logs, correlation scope, sender, payload bounds.
#include "guest-init/protocol/message_type.hpp"

#include "guest-init/protocol/limits.hpp"

namespace husk::protocol {

namespace {

struct TypeInfo {
    MessageType type;
    std::string_view name;
    CorrelationScope scope;
    Sender sender;
    PayloadBounds bounds;
};

// Sizes of the fixed parts, from the field layouts in messages.hpp (u32 length prefixes).
constexpr uint32_t any_size = max_payload_size;
constexpr TypeInfo type_table[] = {
    { MessageType::Hello, "Hello", CorrelationScope::Connection, Sender::Host, { 10, 10 } },
    { MessageType::HelloReply, "HelloReply", CorrelationScope::Connection, Sender::Guest, { 10, 10 } },
    { MessageType::Ping, "Ping", CorrelationScope::Connection, Sender::Either, { 8, 8 } },
    { MessageType::Pong, "Pong", CorrelationScope::Connection, Sender::Either, { 8, 8 } },
    { MessageType::Shutdown, "Shutdown", CorrelationScope::Connection, Sender::Host, { 0, 0 } },
    { MessageType::Refresh, "Refresh", CorrelationScope::Connection, Sender::Host,
        { 16, 16 + max_refresh_entropy_size + max_hostname_size } },
    { MessageType::Exec, "Exec", CorrelationScope::Operation, Sender::Host, { 37, any_size } },
    { MessageType::Stdin, "Stdin", CorrelationScope::Operation, Sender::Host, { 4, any_size } },
    { MessageType::StdinClose, "StdinClose", CorrelationScope::Operation, Sender::Host, { 0, 0 } },
    { MessageType::Output, "Output", CorrelationScope::Operation, Sender::Guest, { 5, any_size } },
    { MessageType::Signal, "Signal", CorrelationScope::Operation, Sender::Host, { 4, 4 } },
    { MessageType::Exited, "Exited", CorrelationScope::Operation, Sender::Guest, { 15, 15 } },
    { MessageType::SpawnFailed, "SpawnFailed", CorrelationScope::Operation, Sender::Guest, { 8, any_size } },
    { MessageType::FileWrite, "FileWrite", CorrelationScope::Operation, Sender::Host, { 21, any_size } },
    { MessageType::FileRead, "FileRead", CorrelationScope::Operation, Sender::Host, { 16, any_size } },
    { MessageType::FileData, "FileData", CorrelationScope::Operation, Sender::Guest, { 5, any_size } },
    { MessageType::Stat, "Stat", CorrelationScope::Operation, Sender::Host, { 4, any_size } },
    { MessageType::StatReply, "StatReply", CorrelationScope::Operation, Sender::Guest, { 21, 21 } },
    { MessageType::Mkdir, "Mkdir", CorrelationScope::Operation, Sender::Host, { 9, any_size } },
    { MessageType::Remove, "Remove", CorrelationScope::Operation, Sender::Host, { 5, any_size } },
    { MessageType::Ack, "Ack", CorrelationScope::Any, Sender::Guest, { 0, 0 } },
    { MessageType::ErrorReply, "ErrorReply", CorrelationScope::Any, Sender::Either, { 8, any_size } },
};

TypeInfo const* find(uint16_t type)
{
    for (auto const& info : type_table) {
        if (static_cast<uint16_t>(info.type) == type)
            return &info;
    }
    return nullptr;
}

} // namespace

bool is_known_message_type(uint16_t type) { return find(type) != nullptr; }

std::string_view message_type_name(MessageType type)
{
    auto const* info = find(static_cast<uint16_t>(type));
    return info ? info->name : "unknown";
}

// Unknown types are rejected (frame decoder, decode_message) before these are consulted; the
// fallbacks only keep the functions total.
CorrelationScope correlation_scope(MessageType type)
{
    auto const* info = find(static_cast<uint16_t>(type));
    return info ? info->scope : CorrelationScope::Connection;
}

Sender allowed_sender(MessageType type)
{
    auto const* info = find(static_cast<uint16_t>(type));
    return info ? info->sender : Sender::Either;
}

bool may_send(Peer peer, MessageType type)
{
    switch (allowed_sender(type)) {
    case Sender::Host:
        return peer == Peer::Host;
    case Sender::Guest:
        return peer == Peer::Guest;
    case Sender::Either:
        return true;
    }
    return false;
}

PayloadBounds payload_bounds(MessageType type)
{
    auto const* info = find(static_cast<uint16_t>(type));
    return info ? info->bounds : PayloadBounds { 0, 0 };
}

} // namespace husk::protocol

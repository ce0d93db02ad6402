// AgentClient's connection-level exchanges (correlation id 0, one at a time): Hello, Ping,
// Refresh and Shutdown, each expecting one reply of one type; Hello and Refresh also pipelined.
#include "sdk/src/agent_client.hpp"

#include "guest-init/protocol/message_codec.hpp"

namespace husk::detail {

using namespace husk::protocol;

namespace {

    template<typename T>
    Result<T> expect(Result<Message> reply, char const* request)
    {
        if (!reply)
            return unexpected(std::move(reply).error());
        if (auto* typed = std::get_if<T>(&*reply))
            return *typed;
        if (auto* error = std::get_if<ErrorReply>(&*reply))
            return fail(ErrorKind::Guest, std::string(request) + " refused by the agent: " + error->message);
        return fail(ErrorKind::AgentDisconnected,
            std::string("the agent answered ") + request + " with " + std::string(message_name(*reply)));
    }

} // namespace

Result<Message> AgentClient::exchange(Message const& request, Deadline deadline)
{
    auto replies = TRY(exchange_all({ request }, deadline));
    return std::move(replies.front());
}

Result<std::vector<Message>> AgentClient::exchange_all(std::vector<Message> const& requests, Deadline deadline)
{
    std::lock_guard exchange_lock(m_exchange_mutex);
    // The agent answers id-0 requests one by one in the order sent, so sending them all at once
    // costs one round trip instead of one each; the operation stays registered until every
    // reply is in.
    auto operation = std::make_shared<ReplyOperation>([](Message const&) { return false; });
    {
        std::lock_guard lock(m_mutex);
        if (m_failure)
            return unexpected(*m_failure);
        m_connection_operation = operation;
    }
    Result<std::vector<Message>> replies = std::vector<Message> {};
    for (auto const& request : requests) {
        if (auto sent = send(0, request); !sent) {
            replies = unexpected(std::move(sent).error());
            break;
        }
    }
    while (replies && replies->size() < requests.size()) {
        auto reply = operation->next(deadline);
        if (!reply)
            replies = unexpected(std::move(reply).error());
        else
            replies->push_back(std::move(*reply));
    }
    std::lock_guard lock(m_mutex);
    if (m_connection_operation == operation)
        m_connection_operation.reset();
    return replies;
}

Result<HelloReply> AgentClient::hello(Deadline deadline)
{
    return check_hello(expect<HelloReply>(exchange(Hello { protocol_version, 0 }, deadline), "Hello"));
}

Result<HelloReply> AgentClient::check_hello(Result<HelloReply> reply)
{
    TRY(reply);
    if (reply->version > protocol_version)
        return fail(ErrorKind::AgentDisconnected,
            "the agent chose protocol version " + std::to_string(reply->version) + ", newer than ours");
    m_agent_capabilities = reply->capabilities;
    return reply;
}

Result<HelloReply> AgentClient::hello_and_refresh(protocol::Refresh const& refresh, Deadline deadline)
{
    // A network move needs the Hello answer's capabilities first (refresh() checks them).
    if (!refresh.network.empty())
        return fail(ErrorKind::BadConfig, "a Refresh with a network cannot be sent with the Hello");
    auto replies = TRY(exchange_all({ Hello { protocol_version, 0 }, refresh }, deadline));
    auto hello = TRY(check_hello(expect<HelloReply>(std::move(replies[0]), "Hello")));
    TRY(expect<Ack>(std::move(replies[1]), "Refresh"));
    return hello;
}

Result<void> AgentClient::ping(Deadline deadline)
{
    uint64_t nonce;
    {
        std::lock_guard lock(m_mutex);
        nonce = m_next_nonce++;
    }
    auto pong = TRY(expect<Pong>(exchange(Ping { nonce }, deadline), "Ping"));
    if (pong.nonce != nonce)
        return fail(ErrorKind::AgentDisconnected, "the agent answered Ping with the wrong nonce");
    return {};
}

Result<void> AgentClient::refresh(protocol::Refresh const& refresh, Deadline deadline)
{
    if (!refresh.network.empty() && (agent_capabilities() & capability_bit(protocol::Capability::RefreshNetwork)) == 0)
        return fail(ErrorKind::BadConfig,
            "the snapshot's guest agent (husk-init) cannot move its network to a clone's addresses: it predates "
            "that; take the snapshot again with this husk build");
    TRY(expect<Ack>(exchange(refresh, deadline), "Refresh"));
    return {};
}

Result<void> AgentClient::shutdown(Deadline deadline)
{
    TRY(expect<Ack>(exchange(Shutdown {}, deadline), "Shutdown"));
    return {};
}

} // namespace husk::detail

// Operation: the receiving end of one correlation id on the agent connection. The client's reader
// thread hands it every message carrying its id; an operation says when it is finished.
// ReplyOperation is the common case: messages queue up until the caller takes them.
#pragma once

#include "guest-init/protocol/messages.hpp"
#include "runtime/base/result.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace husk::detail {

class Operation {
public:
    virtual ~Operation() = default;
    // On the reader thread. True when this message ends the operation: the client forgets it.
    virtual bool on_message(protocol::Message message) = 0;
    // The connection failed (or closed) before the operation ended. At most once, any thread.
    virtual void on_failure(Error const& error) = 0;
};

// Queues the messages of a request/reply exchange; `is_final` tells which message ends it.
class ReplyOperation final : public Operation {
public:
    using IsFinal = bool (*)(protocol::Message const&);
    explicit ReplyOperation(IsFinal is_final)
        : m_is_final(is_final)
    {
    }

    bool on_message(protocol::Message message) override;
    void on_failure(Error const& error) override;

    // The next message, the connection's error, or a Timeout error at `deadline`.
    Result<protocol::Message> next(std::chrono::steady_clock::time_point deadline);

private:
    IsFinal m_is_final;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<protocol::Message> m_messages;
    std::optional<Error> m_error;
};

// Replies that end a request: anything but a FileData chunk before its last.
bool is_final_reply(protocol::Message const& message);

} // namespace husk::detail

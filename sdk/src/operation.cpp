// ReplyOperation: a condition-variable queue between the reader thread and the caller.
#include "sdk/src/operation.hpp"

namespace husk::detail {

bool ReplyOperation::on_message(protocol::Message message)
{
    bool final = m_is_final(message);
    {
        std::lock_guard lock(m_mutex);
        m_messages.push_back(std::move(message));
    }
    m_changed.notify_all();
    return final;
}

void ReplyOperation::on_failure(Error const& error)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_error)
            m_error = error;
    }
    m_changed.notify_all();
}

Result<protocol::Message> ReplyOperation::next(std::chrono::steady_clock::time_point deadline)
{
    std::unique_lock lock(m_mutex);
    if (!m_changed.wait_until(lock, deadline, [&] { return !m_messages.empty() || m_error; }))
        return fail(ErrorKind::Timeout, "no reply from the agent in time");
    if (!m_messages.empty()) {
        auto message = std::move(m_messages.front());
        m_messages.pop_front();
        return message;
    }
    return unexpected(*m_error);
}

bool is_final_reply(protocol::Message const& message)
{
    if (auto const* data = std::get_if<protocol::FileData>(&message))
        return data->eof;
    return true;
}

} // namespace husk::detail

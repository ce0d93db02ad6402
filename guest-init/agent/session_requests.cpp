// AgentSession request handlers: one per message type the host may send. Every request is
// already fully validated by decode_message(); what is checked here is the session's state
// (live correlation ids, operation limits, the job a request names).
#include "guest-init/agent/agent_session.hpp"

#include "guest-init/agent/file_ops.hpp"
#include "guest-init/agent/guest_refresh.hpp"
#include "runtime/base/log.hpp"

#include <algorithm>

namespace husk::agent {

using namespace protocol;

namespace {

    // Enough to absorb the chunks an SDK has in flight when its upload fails.
    constexpr size_t failed_write_memory = 64;

    std::string id_text(uint32_t id) { return "correlation id " + std::to_string(id); }

    template<typename Reply>
    Message reply_message(Reply&& reply)
    {
        return std::visit([](auto&& typed) -> Message { return typed; }, std::forward<Reply>(reply));
    }

} // namespace

void AgentSession::handle_message(uint32_t id, Message const& message)
{
    std::visit([this, id](auto const& typed) { handle(id, typed); }, message);
}

ExecJob* AgentSession::find_job(uint32_t id)
{
    auto found = m_jobs.find(id);
    return found == m_jobs.end() ? nullptr : found->second.get();
}

bool AgentSession::check_new_operation(uint32_t id)
{
    if (m_jobs.contains(id) || m_writers.contains(id) || m_readers.contains(id)) {
        send_error(id, ErrorCode::InvalidArgument, id_text(id) + " is already in use by a running operation");
        return false;
    }
    size_t live = m_jobs.size() + m_writers.size() + m_readers.size();
    if (live >= m_host.options().max_operations_per_connection) {
        send_error(id, ErrorCode::NoSpace,
            "too many operations on this connection (limit "
                + std::to_string(m_host.options().max_operations_per_connection) + ")");
        return false;
    }
    return true;
}

void AgentSession::handle(uint32_t, Hello const& message)
{
    send(0, HelloReply { std::min(message.version, protocol_version), agent_capabilities });
}

void AgentSession::handle(uint32_t, Ping const& message) { send(0, Pong { message.nonce }); }

void AgentSession::handle(uint32_t, Shutdown const&)
{
    send(0, Ack {});
    m_host.request_shutdown(*this);
}

void AgentSession::handle(uint32_t, Refresh const& message)
{
    if (auto applied = apply_refresh(message); !applied) {
        log_warn("agent: refresh after a restore: " + applied.error().message);
        send_error(0, ErrorCode::Internal, applied.error().message);
        return;
    }
    send(0, Ack {});
}

void AgentSession::handle(uint32_t id, Exec const& message)
{
    if (!check_new_operation(id))
        return;
    auto const& options = m_host.options();
    auto job = ExecJob::start(id, message, SpawnDefaults { options.default_path, options.default_cwd }, *this);
    if (!job) {
        send(id, SpawnFailed { SpawnError::Other, job.error().message });
        return;
    }
    m_jobs.emplace(id, std::move(*job));
}

void AgentSession::handle(uint32_t id, Stdin const& message)
{
    auto* job = find_job(id);
    if (!job) {
        send_error(id, ErrorCode::NotFound, "Stdin: no running exec has " + id_text(id));
        return;
    }
    if (auto written = job->write_stdin(message.data); !written)
        send_error(id, ErrorCode::InvalidArgument, "Stdin: " + written.error().message);
}

void AgentSession::handle(uint32_t id, StdinClose const&)
{
    auto* job = find_job(id);
    if (!job) {
        send_error(id, ErrorCode::NotFound, "StdinClose: no running exec has " + id_text(id));
        return;
    }
    if (auto closed = job->close_stdin(); !closed)
        send_error(id, ErrorCode::InvalidArgument, "StdinClose: " + closed.error().message);
}

void AgentSession::handle(uint32_t id, Signal const& message)
{
    auto* job = find_job(id);
    if (!job) {
        send_error(id, ErrorCode::NotFound, "Signal: no running exec has " + id_text(id));
        return;
    }
    job->send_signal(static_cast<int>(message.signo));
}

void AgentSession::handle(uint32_t id, FileWrite const& message)
{
    if (auto found = m_writers.find(id); found != m_writers.end()) {
        write_chunk(id, found->second, message);
        return;
    }
    auto failed = std::find(m_failed_writes.begin(), m_failed_writes.end(), id);
    if (failed != m_failed_writes.end()) {
        if (message.offset != 0) {
            // A chunk that was in flight when its upload failed.
            if (message.last_chunk)
                m_failed_writes.erase(failed);
            return;
        }
        m_failed_writes.erase(failed); // offset 0: a new upload reusing the id
    }
    if (!check_new_operation(id))
        return;
    auto opened = FileWriter::open(message);
    if (auto* error = std::get_if<ErrorReply>(&opened)) {
        send(id, *error);
        remember_failed_write(id, message);
        return;
    }
    auto [inserted, unused] = m_writers.emplace(id, std::move(std::get<FileWriter>(opened)));
    write_chunk(id, inserted->second, message);
}

void AgentSession::write_chunk(uint32_t id, FileWriter& writer, FileWrite const& chunk)
{
    auto error = writer.write(chunk);
    if (error) {
        send(id, *error);
        m_writers.erase(id);
        remember_failed_write(id, chunk);
        return;
    }
    if (chunk.last_chunk) {
        m_writers.erase(id);
        send(id, Ack {});
    }
}

void AgentSession::remember_failed_write(uint32_t id, FileWrite const& chunk)
{
    if (chunk.last_chunk)
        return; // nothing more can follow
    if (m_failed_writes.size() == failed_write_memory)
        m_failed_writes.pop_front();
    m_failed_writes.push_back(id);
}

void AgentSession::handle(uint32_t id, FileRead const& message)
{
    if (!check_new_operation(id))
        return;
    auto opened = FileReader::open(message);
    if (auto* error = std::get_if<ErrorReply>(&opened)) {
        send(id, *error);
        return;
    }
    // The chunks follow from after_events(), as the connection has room for them.
    m_readers.emplace(id, std::move(std::get<FileReader>(opened)));
}

void AgentSession::handle(uint32_t id, Stat const& message)
{
    if (check_new_operation(id))
        send(id, reply_message(stat_path(message)));
}

void AgentSession::handle(uint32_t id, Mkdir const& message)
{
    if (check_new_operation(id))
        send(id, reply_message(make_directory(message)));
}

void AgentSession::handle(uint32_t id, Remove const& message)
{
    if (check_new_operation(id))
        send(id, reply_message(remove_path(message)));
}

// The agent sends no Ping and expects no reply to anything it sends, so a Pong or an ErrorReply
// from the host has nothing to act on; the host may send both, so neither is a violation.
void AgentSession::handle(uint32_t, Pong const&) { }

void AgentSession::handle(uint32_t id, ErrorReply const& message)
{
    log_debug("agent: host reported an error for " + id_text(id) + ": " + message.message);
}

// decode_message(frame, Peer::Host) rejects every type only the guest may send, so this is
// unreachable; it keeps the visit exhaustive and the answer defined.
template<typename GuestMessage>
void AgentSession::handle(uint32_t id, GuestMessage const&)
{
    fail_protocol(id, "the host may not send " + std::string(message_type_name(GuestMessage::type)));
}

} // namespace husk::agent

// Process: the public handle over an ExecOperation.
#include "husk/process.hpp"

#include "guest-init/protocol/limits.hpp"
#include "sdk/src/exec_operation.hpp"

#include <csignal>

namespace husk {

using namespace husk::protocol;

Process::Process(std::shared_ptr<detail::ExecOperation> operation)
    : m_operation(std::move(operation))
{
}

Process::Process(Process&&) noexcept = default;

Process& Process::operator=(Process&& other) noexcept
{
    if (this != &other) {
        if (m_operation)
            m_operation->abandon();
        m_operation = std::move(other.m_operation);
    }
    return *this;
}

Process::~Process()
{
    if (m_operation)
        m_operation->abandon();
}

uint32_t Process::id() const { return m_operation ? m_operation->id() : 0; }

Result<void> Process::write_stdin(std::span<uint8_t const> data)
{
    if (!m_operation)
        return fail(ErrorKind::BadConfig, "moved-from Process");
    while (!data.empty()) {
        auto chunk = data.first(std::min<size_t>(data.size(), max_chunk_size));
        TRY(m_operation->send(Stdin { std::vector<uint8_t>(chunk.begin(), chunk.end()) }));
        data = data.subspan(chunk.size());
    }
    return {};
}

Result<void> Process::write_stdin(std::string_view data)
{
    return write_stdin(std::span<uint8_t const>(reinterpret_cast<uint8_t const*>(data.data()), data.size()));
}

Result<void> Process::close_stdin()
{
    if (!m_operation)
        return fail(ErrorKind::BadConfig, "moved-from Process");
    return m_operation->send(StdinClose {});
}

Result<void> Process::signal(int signo)
{
    if (!m_operation)
        return fail(ErrorKind::BadConfig, "moved-from Process");
    if (signo < 1 || signo > static_cast<int>(max_signal_number))
        return fail(ErrorKind::BadConfig, "invalid signal number " + std::to_string(signo));
    return m_operation->send(Signal { static_cast<uint32_t>(signo) });
}

Result<void> Process::kill() { return signal(SIGKILL); }

Result<RunResult> Process::wait(std::optional<std::chrono::milliseconds> timeout)
{
    if (!m_operation)
        return fail(ErrorKind::BadConfig, "moved-from Process");
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (timeout)
        deadline = std::chrono::steady_clock::now() + *timeout;
    return m_operation->wait(deadline);
}

bool Process::has_exited() const { return m_operation && m_operation->is_finished(); }

} // namespace husk

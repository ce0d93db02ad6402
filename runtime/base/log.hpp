// Logging in the husk format: `<time> [<vm-id>:<thread>:<level>] message`, to stderr by default.
// Every call site is a source of its own for the LogLimiter (runtime/base/log_limiter.hpp): a
// message the guest can trigger over and over writes its first lines and then exponentially
// fewer, each saying how many were suppressed, so no guest can fill the host's disk through
// the log.
#pragma once

#include <source_location>
#include <string_view>

namespace husk {

enum class LogLevel { Debug, Info, Warn, Error };

void set_log_vm_id(std::string_view id);
void set_log_thread_name(std::string_view name); // per thread, e.g. "main", "vcpu0"
void set_log_level(LogLevel minimum);
void set_log_fd(int fd);
void log(LogLevel level, std::string_view message, std::source_location where = std::source_location::current());

inline void log_debug(std::string_view message, std::source_location where = std::source_location::current())
{
    log(LogLevel::Debug, message, where);
}
inline void log_info(std::string_view message, std::source_location where = std::source_location::current())
{
    log(LogLevel::Info, message, where);
}
inline void log_warn(std::string_view message, std::source_location where = std::source_location::current())
{
    log(LogLevel::Warn, message, where);
}
inline void log_error(std::string_view message, std::source_location where = std::source_location::current())
{
    log(LogLevel::Error, message, where);
}

} // namespace husk

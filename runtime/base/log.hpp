// Logging in the husk format: `<time> [<vm-id>:<thread>:<level>] message`, to stderr by default.
// Every call site is a source of its own for the LogLimiter (runtime/base/log_limiter.hpp): a
// message the guest can trigger over and over writes its first lines and then exponentially
// fewer, each saying how many were suppressed, so no guest can fill the host's disk through
// the log.
#pragma once

#include <string_view>

namespace husk {

enum class LogLevel { Debug, Info, Warn, Error };

void set_log_vm_id(std::string_view id);
void set_log_thread_name(std::string_view name); // per thread, e.g. "main", "vcpu0"
void set_log_level(LogLevel minimum);
void set_log_fd(int fd);
// `file` and `line` default to the caller's (GCC and Clang builtins, evaluated at the call site
// only when they are the default argument themselves; clang 14 cannot use <source_location>).
void log(LogLevel level, std::string_view message, char const* file = __builtin_FILE(), int line = __builtin_LINE());

inline void log_debug(std::string_view message, char const* file = __builtin_FILE(), int line = __builtin_LINE())
{
    log(LogLevel::Debug, message, file, line);
}
inline void log_info(std::string_view message, char const* file = __builtin_FILE(), int line = __builtin_LINE())
{
    log(LogLevel::Info, message, file, line);
}
inline void log_warn(std::string_view message, char const* file = __builtin_FILE(), int line = __builtin_LINE())
{
    log(LogLevel::Warn, message, file, line);
}
inline void log_error(std::string_view message, char const* file = __builtin_FILE(), int line = __builtin_LINE())
{
    log(LogLevel::Error, message, file, line);
}

} // namespace husk

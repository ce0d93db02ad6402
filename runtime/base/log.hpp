// Logging in the husk format: `<time> [<vm-id>:<thread>:<level>] message`, to stderr by default.
#pragma once

#include <string_view>

namespace husk {

enum class LogLevel { Debug, Info, Warn, Error };

void set_log_vm_id(std::string_view id);
void set_log_thread_name(std::string_view name); // per thread, e.g. "main", "vcpu0"
void set_log_level(LogLevel minimum);
void set_log_fd(int fd);
void log(LogLevel level, std::string_view message);

inline void log_debug(std::string_view message) { log(LogLevel::Debug, message); }
inline void log_info(std::string_view message) { log(LogLevel::Info, message); }
inline void log_warn(std::string_view message) { log(LogLevel::Warn, message); }
inline void log_error(std::string_view message) { log(LogLevel::Error, message); }

} // namespace husk

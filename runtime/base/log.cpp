// Log line formatting. One write(2) per line so lines from vCPU threads never interleave.
#include "runtime/base/log.hpp"
#include "runtime/base/log_limiter.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>
#include <unistd.h>

namespace husk {

namespace {
char g_vm_id[64] = "vmm";
std::atomic<int> g_minimum_level { static_cast<int>(LogLevel::Info) };
std::atomic<int> g_fd { STDERR_FILENO };
thread_local char t_thread_name[32] = "main";
LogLimiter g_limiter;

// A call site's identity: its file name's address (a string literal, below 2^48 in user
// space) and its line in the top bits.
uint64_t source_of(std::source_location const& where)
{
    return reinterpret_cast<uintptr_t>(where.file_name()) ^ (static_cast<uint64_t>(where.line()) << 48);
}

char const* level_name(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    }
    return "?";
}

void copy_bounded(char* destination, size_t capacity, std::string_view source)
{
    size_t length = source.size() < capacity - 1 ? source.size() : capacity - 1;
    source.copy(destination, length);
    destination[length] = '\0';
}
} // namespace

void set_log_vm_id(std::string_view id) { copy_bounded(g_vm_id, sizeof g_vm_id, id); }
void set_log_thread_name(std::string_view name) { copy_bounded(t_thread_name, sizeof t_thread_name, name); }
void set_log_level(LogLevel minimum) { g_minimum_level = static_cast<int>(minimum); }
void set_log_fd(int fd) { g_fd = fd; }

void log(LogLevel level, std::string_view message, std::source_location where)
{
    if (static_cast<int>(level) < g_minimum_level)
        return;
    auto admitted = g_limiter.admit(source_of(where));
    if (!admitted.write)
        return;
    timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc {};
    gmtime_r(&now.tv_sec, &utc);
    char prefix[160];
    int length = std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ [%s:%s:%s] ",
        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
        now.tv_nsec / 1000, g_vm_id, t_thread_name, level_name(level));
    std::string line(prefix, length > 0 ? static_cast<size_t>(length) : 0);
    line.append(message);
    if (admitted.suppressed_before > 0)
        line.append(" [" + std::to_string(admitted.suppressed_before) + " more like this suppressed]");
    line.push_back('\n');
    [[maybe_unused]] auto ignored = ::write(g_fd, line.data(), line.size());
}

} // namespace husk

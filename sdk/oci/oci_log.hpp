// husk-oci's log: `--log FILE` with `--log-format json` (one object per line: level, msg, time in
// RFC 3339, as podman and containerd's shim read runc's log) or text. Errors also go to stderr
// while the process still has the caller's stderr; the monitor, whose fds 0-2 belong to the
// container, only logs to the file.
#pragma once

#include <string>
#include <string_view>

namespace husk::oci {

enum class LogFormat : uint8_t { Text, Json };

class OciLog {
public:
    static void configure(std::string path, LogFormat format);
    /// After this, nothing goes to stderr (fd 2 is the container's).
    static void detach_from_stderr();

    static void error(std::string_view message);
    static void warning(std::string_view message);
    static void info(std::string_view message);

    /// One log line as written (exposed for tests).
    static std::string format_line(LogFormat format, std::string_view level, std::string_view message);

private:
    static void write(std::string_view level, std::string_view message, bool to_stderr);
};

} // namespace husk::oci

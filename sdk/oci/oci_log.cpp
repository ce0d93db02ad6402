// The --log file: appended line by line with O_APPEND so concurrent husk-oci processes (create,
// the monitor, exec) never interleave inside a line.
#include "sdk/oci/oci_log.hpp"

#include "sdk/oci/container_state.hpp"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace husk::oci {

namespace {

    struct LogSettings {
        std::string path;
        LogFormat format { LogFormat::Text };
        bool stderr_open { true };
    };

    LogSettings& settings()
    {
        static LogSettings instance;
        return instance;
    }

    void write_all(int fd, std::string const& text)
    {
        size_t done = 0;
        while (done < text.size()) {
            ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n <= 0)
                return;
            done += static_cast<size_t>(n);
        }
    }

} // namespace

void OciLog::configure(std::string path, LogFormat format)
{
    settings().path = std::move(path);
    settings().format = format;
}

void OciLog::detach_from_stderr() { settings().stderr_open = false; }

std::string OciLog::format_line(LogFormat format, std::string_view level, std::string_view message)
{
    if (format == LogFormat::Json) {
        nlohmann::ordered_json json;
        json["level"] = std::string(level);
        json["msg"] = std::string(message);
        json["time"] = rfc3339_now();
        return json.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
    return rfc3339_now() + " " + std::string(level) + ": " + std::string(message) + "\n";
}

void OciLog::write(std::string_view level, std::string_view message, bool to_stderr)
{
    auto const& current = settings();
    if (!current.path.empty()) {
        int fd = open(current.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            write_all(fd, format_line(current.format, level, message));
            close(fd);
        }
    }
    if (to_stderr && current.stderr_open)
        write_all(STDERR_FILENO, "husk-oci: " + std::string(message) + "\n");
}

void OciLog::error(std::string_view message) { write("error", message, true); }
void OciLog::warning(std::string_view message) { write("warning", message, false); }
void OciLog::info(std::string_view message) { write("info", message, false); }

} // namespace husk::oci

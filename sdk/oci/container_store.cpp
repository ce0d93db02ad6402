// The per-container state directories under the state root.
#include "sdk/oci/container_store.hpp"

#include "sdk/oci/container_id.hpp"
#include "sdk/oci/oci_config.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::oci {

std::optional<uint64_t> process_start_time(pid_t pid)
{
    if (pid <= 0)
        return std::nullopt;
    auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return std::nullopt;
    // The command name (field 2) is in parentheses and may hold spaces or ')': fields after the
    // last ')' are unambiguous. Field 3 (state) comes first there; the start time is field 22.
    auto close = stat->rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    size_t position = close + 1;
    for (int field = 3; field <= 22; ++field) {
        while (position < stat->size() && (*stat)[position] == ' ')
            ++position;
        size_t end = stat->find(' ', position);
        if (end == std::string::npos)
            end = stat->size();
        if (field == 3 && (*stat)[position] == 'Z')
            return std::nullopt; // a zombie has finished: the container has stopped
        if (field == 22) {
            uint64_t value = 0;
            for (size_t i = position; i < end; ++i) {
                if ((*stat)[i] < '0' || (*stat)[i] > '9')
                    return std::nullopt;
                value = value * 10 + static_cast<uint64_t>((*stat)[i] - '0');
            }
            return value;
        }
        position = end;
    }
    return std::nullopt;
}

Result<void> write_file_atomically(std::string const& path, std::string const& content, mode_t mode)
{
    std::string temporary = path + ".tmp";
    int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return fail_errno("cannot create " + temporary);
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            unlink(temporary.c_str());
            return fail_errno("cannot write " + temporary, err);
        }
        written += static_cast<size_t>(n);
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int err = errno;
        unlink(temporary.c_str());
        return fail_errno("cannot write " + temporary, err);
    }
    if (rename(temporary.c_str(), path.c_str()) < 0) {
        int err = errno;
        unlink(temporary.c_str());
        return fail_errno("cannot rename " + temporary + " to " + path, err);
    }
    return {};
}

ContainerStore::ContainerStore(std::string root)
    : m_root(std::move(root))
{
    while (m_root.size() > 1 && m_root.back() == '/')
        m_root.pop_back();
}

std::string ContainerStore::directory(std::string const& id) const { return m_root + "/" + id; }

Result<std::string> ContainerStore::create_directory(std::string const& id)
{
    TRY(validate_container_id(id));
    std::error_code error;
    std::filesystem::create_directories(m_root, error);
    if (error)
        return fail("cannot create the state root " + m_root + ": " + error.message());
    chmod(m_root.c_str(), 0700);
    auto path = directory(id);
    if (mkdir(path.c_str(), 0700) < 0) {
        if (errno == EEXIST)
            return fail(ErrorKind::BadConfig, "container with id exists: " + id);
        return fail_errno("cannot create " + path);
    }
    return path;
}

Result<void> ContainerStore::write(ContainerRecord const& record)
{
    TRY(validate_container_id(record.id));
    return write_file_atomically(directory(record.id) + "/state.json", record_to_json(record));
}

Result<ContainerRecord> ContainerStore::read(std::string const& id) const
{
    TRY(validate_container_id(id));
    auto path = directory(id) + "/state.json";
    auto text = read_small_file(path);
    if (!text) {
        if (text.error().errno_value == ENOENT)
            return fail(ErrorKind::BadConfig, "container does not exist: " + id);
        return unexpected(text.error());
    }
    auto record = TRY_CONTEXT(parse_record(*text), path);
    if (record.id != id)
        return fail(ErrorKind::BadConfig, path + ": records container \"" + record.id + "\", not \"" + id + "\"");
    return record;
}

ContainerStatus ContainerStore::live_status(ContainerRecord const& record)
{
    if (record.status == ContainerStatus::Stopped)
        return ContainerStatus::Stopped;
    auto start_time = process_start_time(record.pid);
    if (!start_time || *start_time != record.pid_start_time)
        return ContainerStatus::Stopped;
    return record.status;
}

Result<void> ContainerStore::remove(std::string const& id)
{
    TRY(validate_container_id(id));
    std::error_code error;
    std::filesystem::remove_all(directory(id), error);
    if (error)
        return fail("cannot remove " + directory(id) + ": " + error.message());
    return {};
}

std::vector<std::string> ContainerStore::list() const
{
    std::vector<std::string> ids;
    DIR* dir = opendir(m_root.c_str());
    if (!dir)
        return ids;
    while (auto* entry = readdir(dir)) {
        std::string name = entry->d_name;
        if (entry->d_type == DT_DIR && validate_container_id(name))
            ids.push_back(name);
    }
    closedir(dir);
    return ids;
}

} // namespace husk::oci

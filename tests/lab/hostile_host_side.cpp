// Host side of the hostile-guest cases: images, listener, socket check.
#include "tests/lab/hostile_host_side.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace husk::lab {

namespace {
    std::vector<uint8_t> image_contents(char const* magic)
    {
        std::vector<uint8_t> bytes(hostile_disk_size);
        std::memcpy(bytes.data(), magic, std::strlen(magic) + 1);
        for (size_t i = 512; i < bytes.size(); ++i)
            bytes[i] = static_cast<uint8_t>(i * 31 + (i >> 9));
        return bytes;
    }

    void write_file(std::string const& path, std::vector<uint8_t> const& bytes)
    {
        FILE* file = std::fopen(path.c_str(), "wb");
        if (!file)
            return;
        std::fwrite(bytes.data(), 1, bytes.size(), file);
        std::fclose(file);
    }

    void write_text(std::string const& path, std::string const& text)
    {
        write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
    }

    // Every entry below `directory` but `skip` (and sockets), in a stable order, with what a
    // write, chmod, truncate, rename or new file would change.
    std::string describe_tree(std::string const& directory, std::string const& skip)
    {
        namespace fs = std::filesystem;
        std::vector<std::string> lines;
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(directory, error); !error && it != fs::end(it);
             it.increment(error)) {
            auto path = it->path().string();
            if (path == skip) {
                it.disable_recursion_pending();
                continue;
            }
            struct stat st { };
            if (::lstat(path.c_str(), &st) != 0 || S_ISSOCK(st.st_mode))
                continue;
            std::ostringstream line;
            line << path << ' ' << std::oct << st.st_mode << std::dec << ' ' << st.st_uid << ' ' << st.st_size << ' '
                 << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec << ' ' << st.st_nlink;
            if (S_ISREG(st.st_mode)) {
                std::ifstream file(path, std::ios::binary);
                line << ' ' << std::hash<std::string> {}(std::string(std::istreambuf_iterator<char>(file), {}));
            } else if (S_ISLNK(st.st_mode)) {
                line << " -> " << fs::read_symlink(path, error).string();
            }
            lines.push_back(line.str());
        }
        std::sort(lines.begin(), lines.end());
        std::string all;
        for (auto const& line : lines)
            all += line + "\n";
        return all;
    }

    sockaddr_un unix_address(std::string const& path)
    {
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        return address;
    }
} // namespace

HostileHostSide::HostileHostSide()
{
    char name[] = "/tmp/husk-hostile-XXXXXX";
    if (mkdtemp(name))
        m_directory = name;
    write_file(rw_disk(), image_contents("HUSK-HOSTILE-RW"));
    m_ro_contents = image_contents("HUSK-HOSTILE-RO");
    write_file(ro_disk(), m_ro_contents);
    // share/: the probe's file, a subdirectory, a symlink out of the share (the guest may walk
    // to it but never through it). outside/: what an escape would reach first.
    std::filesystem::create_directories(share_directory() + "/sub");
    std::filesystem::create_directories(m_directory + "/outside/dir");
    write_text(share_directory() + "/probe.txt", hostile_share_probe_contents);
    write_text(share_directory() + "/sub/inner.txt", "inner\n");
    write_text(m_directory + "/outside/canary", "canary: must never change\n");
    write_text(m_directory + "/outside/dir/deep.txt", "deep\n");
    std::filesystem::create_symlink("../outside/canary", share_directory() + "/link-out");
    std::filesystem::create_symlink("../outside/dir", share_directory() + "/link-out-dir");
    std::filesystem::create_symlink("/", share_directory() + "/link-root");
    m_outside_snapshot = describe_tree(m_directory, share_directory());

    auto listen_on = [&](uint32_t port, int backlog) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        auto address = unix_address(vsock_path() + "_" + std::to_string(port));
        if (fd >= 0
            && (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, backlog) != 0)) {
            close(fd);
            fd = -1;
        }
        return fd;
    };
    m_never_accepting = listen_on(hostile_never_accepting_port, 4);
    m_never_reading = listen_on(hostile_never_reading_port, 64);
    m_listener = listen_on(hostile_probe_port, 64);
    if (m_listener < 0 || pipe2(m_wake, O_CLOEXEC) != 0)
        return;
    m_thread = std::thread([this] { serve(); });
}

HostileHostSide::~HostileHostSide()
{
    if (m_thread.joinable()) {
        // One byte into an empty pipe: it cannot fail, and the thread wakes on it.
        [[maybe_unused]] ssize_t woken = ::write(m_wake[1], "x", 1);
        m_thread.join();
    }
    for (int fd : { m_listener, m_never_accepting, m_never_reading, m_wake[0], m_wake[1] })
        if (fd >= 0)
            close(fd);
    for (int fd : m_unread)
        close(fd);
    std::error_code ignored;
    if (!m_directory.empty())
        std::filesystem::remove_all(m_directory, ignored);
}

bool HostileHostSide::read_only_disk_intact() const
{
    FILE* file = std::fopen(ro_disk().c_str(), "rb");
    if (!file)
        return false;
    std::vector<uint8_t> now(hostile_disk_size + 1);
    size_t got = std::fread(now.data(), 1, now.size(), file);
    std::fclose(file);
    now.resize(got);
    return now == m_ro_contents;
}

bool HostileHostSide::outside_of_share_intact() const
{
    return describe_tree(m_directory, share_directory()) == m_outside_snapshot;
}

void HostileHostSide::serve()
{
    // fds[0] wake-up, [1] the probe listener, [2] the never-reading listener, then connections.
    constexpr size_t first_connection = 3;
    std::vector<pollfd> fds { { m_wake[0], POLLIN, 0 }, { m_listener, POLLIN, 0 }, { m_never_reading, POLLIN, 0 } };
    std::vector<std::string> pending(first_connection);
    for (;;) {
        if (poll(fds.data(), fds.size(), -1) < 0)
            continue;
        if (fds[0].revents)
            break;
        if (fds[2].revents & POLLIN) {
            int fd = accept4(m_never_reading, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0)
                m_unread.push_back(fd);
        }
        if (fds[1].revents & POLLIN) {
            int fd = accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                fds.push_back({ fd, POLLIN, 0 });
                pending.emplace_back();
            } else if (errno == EMFILE || errno == ENFILE) {
                usleep(1000); // out of descriptors: let connections end instead of spinning
            }
        }
        for (size_t i = first_connection; i < fds.size(); ++i) {
            if (!fds[i].revents)
                continue;
            char buffer[4096];
            ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
            if (got <= 0) {
                close(fds[i].fd);
                fds.erase(fds.begin() + static_cast<long>(i));
                pending.erase(pending.begin() + static_cast<long>(i));
                --i;
                continue;
            }
            pending[i].append(buffer, static_cast<size_t>(got));
            while (pending[i].find("ping") != std::string::npos) {
                pending[i].erase(0, pending[i].find("ping") + 4);
                // husk-vmm may have closed its end meanwhile: an error, not a SIGPIPE for the suite.
                (void)send(fds[i].fd, "pong", 4, MSG_NOSIGNAL);
                if (m_pings.fetch_add(1) == 0)
                    try_vmm_socket();
            }
        }
    }
    for (size_t i = first_connection; i < fds.size(); ++i)
        close(fds[i].fd);
}

// While the guest is busy with its probe, husk-vmm's own socket must still take a connection
// and a CONNECT line (the guest never answers it; the connection ends with the VM).
void HostileHostSide::try_vmm_socket()
{
    ++m_uds_tried;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto address = unix_address(vsock_path());
    // A full backlog makes connect() wait for an accept: bounded, so a husk-vmm that stopped
    // accepting fails the check instead of holding this thread (and the case) forever.
    timeval limit { 10, 0 };
    if (fd >= 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        char const line[] = "CONNECT 5\n";
        if (send(fd, line, sizeof line - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof line - 1))
            ++m_uds_accepted;
    }
    if (fd >= 0)
        close(fd);
}

} // namespace husk::lab

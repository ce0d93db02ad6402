// Copying a container process's stdio between host descriptors and the guest job.
#include "sdk/oci/job_stdio.hpp"

#include "sdk/oci/sandbox_settings.hpp"

#include <cerrno>
#include <thread>
#include <unistd.h>

namespace husk::oci {

namespace {

    void write_all(int fd, std::span<uint8_t const> data)
    {
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(fd, data.data() + done, data.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return; // the reader went away (EPIPE): the guest's output has nowhere to go
            done += static_cast<size_t>(n);
        }
    }

    void copy_stdin(int fd, std::shared_ptr<Process> process)
    {
        uint8_t buffer[16384];
        while (true) {
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; // EOF, or EIO when a pty's master side closed
            if (!process->write_stdin(std::span<uint8_t const>(buffer, static_cast<size_t>(n))))
                return;
        }
        (void)process->close_stdin();
    }

} // namespace

Result<std::shared_ptr<Process>> start_with_stdio(Sandbox& sandbox, OciProcess const& process, JobStdio stdio)
{
    auto options = start_options_for(process);
    int out = stdio.out;
    int err = stdio.err;
    options.on_stdout = [out](std::span<uint8_t const> chunk) { write_all(out, chunk); };
    options.on_stderr = [err](std::span<uint8_t const> chunk) { write_all(err, chunk); };
    auto started = TRY(sandbox.start(process.args, std::move(options)));
    auto shared = std::make_shared<Process>(std::move(started));
    // Detached: a read() on a terminal or pipe that never ends cannot be interrupted portably;
    // the thread ends with the process (the monitor and exec processes _exit when done).
    std::thread(copy_stdin, stdio.in, shared).detach();
    return shared;
}

} // namespace husk::oci

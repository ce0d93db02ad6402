// install_seccomp and the test-only forbidden-syscall hook.
#include "runtime/jail/seccomp.hpp"

#include "runtime/base/log.hpp"
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/precompiled_seccomp.hpp"

#include <cstdlib>
#include <ctime>
#include <malloc.h>
#include <optional>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

namespace {
    // Work glibc does lazily on first use with syscalls no list allows, done now instead: the
    // first time conversion (even gmtime_r, for log timestamps) opens and reads /etc/localtime.
    // Measured with strace: without this the first log line of a filtered thread opened it.
    void prime_lazy_libc_state() { ::tzset(); }
} // namespace

void prepare_allocator_for_seccomp()
{
    // A hint glibc honours for arenas created from now on; none exist yet besides the main one.
    ::mallopt(M_ARENA_MAX, 1);
}

Result<void> install_seccomp(ThreadKind kind, FileSharingDescriptors const& shares)
{
    prime_lazy_libc_state();
    auto thread = [kind] { return "the seccomp filter of the " + std::string(thread_kind_name(kind)) + " thread"; };
    std::vector<sock_filter> program;
    if (shares.share_roots.empty()) {
        program = instantiate(precompiled_filter(kind), current_main_thread_values());
    } else {
        if (kind != ThreadKind::Event)
            return fail(thread() + " has no file-sharing rules: only the event thread serves shares");
        program = TRY_CONTEXT(instantiate(precompiled_share_filter(shares.share_roots.size(), shares.owners), shares),
            "building " + thread());
    }
    TRY_CONTEXT(load_seccomp_program(program), "installing " + thread());
    return {};
}

#ifdef HUSK_TEST_HOOKS
namespace {
    std::optional<ThreadKind> g_forbidden_syscall_kind;
}

bool test_hooks_compiled_in() { return true; }

void capture_test_hooks()
{
    if (char const* wanted = std::getenv("HUSK_TEST_FORBIDDEN_SYSCALL"))
        g_forbidden_syscall_kind = parse_thread_kind(wanted);
}

void forbidden_syscall_test_hook(ThreadKind kind)
{
    if (g_forbidden_syscall_kind != kind)
        return;
    log_warn("test hook: the " + std::string(thread_kind_name(kind))
        + " thread attempts socket(AF_INET); seccomp should kill the VMM now");
    // Raw syscall: the point is the kernel's answer, not glibc's.
    long fd = ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    log_error("test hook: socket(AF_INET) returned " + std::to_string(fd) + " on the "
        + std::string(thread_kind_name(kind)) + " thread: no seccomp filter stopped it");
    if (fd >= 0)
        ::close(static_cast<int>(fd));
}
#else
bool test_hooks_compiled_in() { return false; }
void capture_test_hooks() { }
void forbidden_syscall_test_hook(ThreadKind) { }
#endif

} // namespace husk

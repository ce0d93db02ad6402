// execvp-like resolution of process.args[0] in the guest.
#include "sdk/oci/guest_executable.hpp"

namespace husk::oci {

namespace {

    constexpr char const* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    std::string path_of(std::vector<std::string> const& env)
    {
        for (auto const& entry : env) {
            if (entry.starts_with("PATH="))
                return entry.substr(5);
        }
        return default_path;
    }

    enum class Verdict { Missing, Executable, NotExecutable };

    Verdict check(std::optional<FileInfo> const& info)
    {
        if (!info)
            return Verdict::Missing;
        if (info->type == FileType::Symlink)
            return Verdict::Executable;
        if (info->type != FileType::Regular || (info->mode & 0111) == 0)
            return Verdict::NotExecutable;
        return Verdict::Executable;
    }

    std::string quoted(std::string const& program) { return "exec: \"" + program + "\": "; }

} // namespace

Result<std::string> resolve_guest_executable(
    std::string const& program, std::string const& cwd, std::vector<std::string> const& env, GuestLookup const& lookup)
{
    if (program.find('/') != std::string::npos) {
        std::string path = program[0] == '/' ? program : (cwd == "/" ? "/" : cwd + "/") + program;
        switch (check(lookup(path))) {
        case Verdict::Executable:
            return path;
        case Verdict::NotExecutable:
            return fail(ErrorKind::BadConfig, quoted(program) + "permission denied");
        case Verdict::Missing:
            return fail(ErrorKind::BadConfig, quoted(program) + "stat " + program + ": no such file or directory");
        }
    }
    // execvp: the first executable match wins; a match that is not executable is remembered and
    // reported only when nothing later is (EACCES).
    bool denied = false;
    std::string search = path_of(env);
    size_t start = 0;
    while (start <= search.size()) {
        size_t end = search.find(':', start);
        if (end == std::string::npos)
            end = search.size();
        std::string dir = search.substr(start, end - start);
        start = end + 1;
        if (dir.empty())
            dir = cwd;
        if (dir[0] != '/')
            continue;
        std::string path = (dir.ends_with("/") ? dir : dir + "/") + program;
        switch (check(lookup(path))) {
        case Verdict::Executable:
            return path;
        case Verdict::NotExecutable:
            denied = true;
            break;
        case Verdict::Missing:
            break;
        }
    }
    if (denied)
        return fail(ErrorKind::BadConfig, quoted(program) + "permission denied");
    return fail(ErrorKind::BadConfig, quoted(program) + "executable file not found in $PATH");
}

} // namespace husk::oci

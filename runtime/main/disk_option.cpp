// parse_disk_option: PATH[,ro].
#include "runtime/main/disk_option.hpp"

namespace husk {

Result<DiskOption> parse_disk_option(std::string_view text)
{
    DiskOption disk;
    auto comma = text.rfind(',');
    std::string_view path = text;
    if (comma != std::string_view::npos) {
        auto flag = text.substr(comma + 1);
        if (flag != "ro" && flag != "rw")
            return fail(
                "--disk " + std::string(text) + ": unknown flag '" + std::string(flag) + "' (expected ro or rw)");
        disk.read_only = flag == "ro";
        path = text.substr(0, comma);
    }
    if (path.empty())
        return fail("--disk needs a path to a raw image file (PATH or PATH,ro)");
    if (path.find('\0') != std::string_view::npos)
        return fail("--disk path contains a NUL byte");
    disk.path = std::string(path);
    return disk;
}

} // namespace husk

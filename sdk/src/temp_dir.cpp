// TempDir creation and removal.
#include "sdk/src/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace husk::detail {

Result<TempDir> TempDir::create()
{
    std::string base = "/tmp";
    for (char const* variable : { "XDG_RUNTIME_DIR", "TMPDIR" }) {
        char const* value = std::getenv(variable);
        if (value && *value == '/' && access(value, W_OK | X_OK) == 0) {
            base = value;
            break;
        }
    }
    std::string pattern = base + "/husk-XXXXXX";
    if (!mkdtemp(pattern.data()))
        return fail_errno("cannot create a temporary directory under " + base);
    return TempDir(pattern);
}

TempDir::~TempDir()
{
    if (m_path.empty())
        return;
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

} // namespace husk::detail

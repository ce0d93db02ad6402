// TempDir: a private (0700) directory for one sandbox's socket, report and VMM log, removed with
// everything in it when the owner goes away. Created under $XDG_RUNTIME_DIR, $TMPDIR or /tmp;
// the name stays short because a unix socket path must fit in 108 bytes.
#pragma once

#include "runtime/base/result.hpp"

#include <string>
#include <utility>

namespace husk::detail {

class TempDir {
public:
    static Result<TempDir> create();
    // Takes over an existing directory (a detached sandbox's): it is removed with this object.
    static TempDir adopt(std::string path) { return TempDir(std::move(path)); }
    TempDir(TempDir&& other) noexcept
        : m_path(std::move(other.m_path))
    {
        other.m_path.clear();
    }
    TempDir& operator=(TempDir&&) = delete;
    TempDir(TempDir const&) = delete;
    ~TempDir();

    std::string const& path() const { return m_path; }
    // Keeps the directory: it is no longer removed with this object.
    std::string release() { return std::exchange(m_path, {}); }
    std::string operator/(std::string const& name) const { return m_path + "/" + name; }

private:
    explicit TempDir(std::string path)
        : m_path(std::move(path))
    {
    }
    std::string m_path;
};

} // namespace husk::detail

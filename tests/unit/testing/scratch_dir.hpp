// ScratchDir: a fresh directory under /tmp for one test, removed with everything in it when the
// test's fixture (or scope) ends. `prefix` names the test in the directory's name, so a leftover
// after a crash says where it came from.
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <system_error>

namespace husk::test_support {

class ScratchDir {
public:
    explicit ScratchDir(std::string const& prefix = "husk-test")
    {
        std::string pattern = "/tmp/" + prefix + "-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp " + pattern + " failed");
        m_path = pattern;
    }
    ScratchDir(ScratchDir const&) = delete;
    ScratchDir& operator=(ScratchDir const&) = delete;
    ~ScratchDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }

    std::string const& path() const { return m_path; }
    // path()/relative
    std::string operator/(std::string const& relative) const { return m_path + "/" + relative; }
    // Writes `content` to path()/relative with `mode`; returns the full path.
    std::string write(std::string const& relative, std::string const& content, mode_t mode = 0644) const
    {
        std::string full = *this / relative;
        std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
        ::chmod(full.c_str(), mode);
        return full;
    }

private:
    std::string m_path;
};

} // namespace husk::test_support

// Lab test support: the names in a directory, or nothing when it cannot be listed — so "the jail
// root is empty" cannot pass just because /proc/<pid>/root/ was unreadable.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace husk_lab {

inline std::optional<std::set<std::string>> directory_entries(std::string const& path)
{
    std::error_code error;
    std::filesystem::directory_iterator it(path, error);
    if (error)
        return std::nullopt;
    std::set<std::string> names;
    // A failing increment ends the loop with `error` set.
    for (; it != std::filesystem::directory_iterator(); it.increment(error))
        names.insert(it->path().filename().string());
    if (error)
        return std::nullopt;
    return names;
}

} // namespace husk_lab

// VM id and jail path validation.
#include "runtime/jail/jail_path.hpp"

namespace husk {

Result<void> validate_vm_id(std::string_view id)
{
    if (id.empty() || id.size() > max_vm_id_length)
        return fail("a VM id has 1 to " + std::to_string(max_vm_id_length) + " characters");
    for (char c : id) {
        bool allowed
            = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!allowed)
            return fail("a VM id may only hold letters, digits, '_' and '-'");
    }
    return {};
}

Result<std::vector<std::string>> split_jail_path(std::string_view path)
{
    if (path.empty())
        return fail("empty path inside the jail");
    if (path.size() > max_jail_path_length)
        return fail("path inside the jail longer than " + std::to_string(max_jail_path_length) + " bytes");
    if (path.find('\0') != std::string_view::npos)
        return fail("path inside the jail holds a NUL byte");
    if (path.front() == '/')
        return fail("path inside the jail must be relative to the jail root");
    std::vector<std::string> components;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        auto component = path.substr(start, end - start);
        if (component.empty())
            return fail("path inside the jail has an empty component");
        if (component == "." || component == "..")
            return fail("path inside the jail may not hold '.' or '..'");
        components.emplace_back(component);
        start = end + 1;
    }
    return components;
}

} // namespace husk

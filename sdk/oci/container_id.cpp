// Container id validation: the id becomes a path component under the state root.
#include "sdk/oci/container_id.hpp"

namespace husk::oci {

Result<void> validate_container_id(std::string_view id)
{
    if (id.empty())
        return fail(ErrorKind::BadConfig, "container id cannot be empty");
    if (id.size() > max_container_id_length)
        return fail(ErrorKind::BadConfig,
            "invalid container id: longer than " + std::to_string(max_container_id_length) + " characters");
    if (id[0] == '.')
        return fail(ErrorKind::BadConfig, "invalid container id: it cannot start with '.'");
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
            || c == '.' || c == '+';
        if (!ok)
            return fail(ErrorKind::BadConfig, "invalid container id: only letters, digits and _ . + - are allowed");
    }
    return {};
}

} // namespace husk::oci

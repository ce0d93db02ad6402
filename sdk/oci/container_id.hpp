// Container ids name directories under the state root, so they are checked before any use: 1..128
// characters of [A-Za-z0-9_.+-], not starting with '.' (no "..", no "/", no hidden names). runc
// accepts the same set; podman and containerd use 64 hex digits.
#pragma once

#include "runtime/base/result.hpp"

#include <string_view>

namespace husk::oci {

inline constexpr size_t max_container_id_length = 128;

Result<void> validate_container_id(std::string_view id);

} // namespace husk::oci

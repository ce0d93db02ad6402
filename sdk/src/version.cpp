// Version strings, from the project version CMake passes in.
#include "husk/version.hpp"

#include "guest-init/protocol/limits.hpp"

namespace husk {

std::string_view version() { return HUSK_VERSION_STRING; }
unsigned protocol_version() { return protocol::protocol_version; }

} // namespace husk

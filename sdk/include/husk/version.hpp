// The husk version this library was built as, and the job-protocol version it speaks.
#pragma once

#include <string_view>

namespace husk {

std::string_view version(); ///< "0.1.0"
unsigned protocol_version(); ///< the highest job-protocol version the SDK speaks

} // namespace husk

// Whether a sandbox runs jailed, from JailMode and who this process is — pure, so each answer
// and its wording are unit-tested, and `husk doctor` explains exactly what create() will do.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <sys/types.h>

namespace husk::detail {

struct JailDecision {
    bool jailed { false };
    std::string reason; // one sentence: why (not) jailed
};

// Fails (BadConfig, one sentence) only for JailMode::Required when the jail is impossible.
Result<JailDecision> decide_jail(JailMode mode, uid_t effective_uid);

} // namespace husk::detail

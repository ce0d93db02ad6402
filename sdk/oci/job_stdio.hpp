// A container process's stdio on the host: output chunks from the guest are written to the
// out/err descriptors (pipes from conmon or the shim, or a pty slave), and a thread copies the
// input descriptor into the job's stdin until EOF, then closes it.
#pragma once

#include "sdk/oci/oci_config.hpp"

#include "husk/sandbox.hpp"

#include <memory>

namespace husk::oci {

struct JobStdio {
    int in { -1 };
    int out { -1 };
    int err { -1 };
};

/// Starts `process` in `sandbox` wired to `stdio` (the descriptors must stay open as long as the
/// job runs). The returned Process is shared with the stdin copier.
Result<std::shared_ptr<Process>> start_with_stdio(Sandbox& sandbox, OciProcess const& process, JobStdio stdio);

} // namespace husk::oci

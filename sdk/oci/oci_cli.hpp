// husk-oci's command line: runc's commands and flags as conmon, podman and containerd's runc.v2
// shim send them (CLI11). Parse problems exit 1 with CLI11's message, like runc's usage errors.
#pragma once

namespace husk::oci {

int run_oci_cli(int argc, char** argv);

} // namespace husk::oci

// The runc commands husk-oci implements, one function each, called by the CLI (oci_cli.cpp) with
// its parsed arguments. Each returns the process's exit status or an error, which the CLI logs
// (--log) and prints to stderr with runc's wording where callers match on it.
#pragma once

#include "sdk/oci/container_store.hpp"

#include "runtime/base/result.hpp"

#include <string>

namespace husk::oci {

struct GlobalOptions {
    std::string root { default_state_root };
    std::string log_path;
    std::string log_format { "text" };
    bool systemd_cgroup { false }; ///< accepted; the VMM's cgroup is husk's own (docs/oci.md)
    bool debug { false };
};

struct CreateArguments {
    std::string id;
    std::string bundle { "." };
    std::string pid_file;
    std::string console_socket;
    unsigned preserve_fds { 0 };
    bool no_pivot { false };
    bool no_new_keyring { false };
};

struct ExecArguments {
    std::string id;
    std::string process_file;
    std::string pid_file;
    std::string console_socket;
    bool detach { false };
    bool tty { false };
    std::vector<std::string> command; ///< `exec ID CMD...` without --process
    std::string cwd;
    std::vector<std::string> env;
};

Result<int> create_container(GlobalOptions const& globals, CreateArguments const& arguments);
Result<int> start_container(GlobalOptions const& globals, std::string const& id);
Result<int> print_state(GlobalOptions const& globals, std::string const& id);
Result<int> kill_container(GlobalOptions const& globals, std::string const& id, std::string const& signal, bool all);
Result<int> delete_container(GlobalOptions const& globals, std::string const& id, bool force);
Result<int> list_processes(GlobalOptions const& globals, std::string const& id, std::string const& format);
Result<int> list_containers(GlobalOptions const& globals, std::string const& format);
Result<int> print_features();
Result<int> exec_in_container(GlobalOptions const& globals, ExecArguments const& arguments);

} // namespace husk::oci

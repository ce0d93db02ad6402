// guest_probe_script: a guest shell line that tries each HOST:PORT with nc and prints
// "HOST:PORT open" when the server answered, "HOST:PORT closed" else (lab_netpolicy, lab_snapshot_net).
#pragma once

#include <string>
#include <vector>

namespace husk_lab {

inline std::string guest_probe_script(std::vector<std::string> const& targets)
{
    std::string script = "for t in";
    for (auto const& target : targets)
        script += " " + target;
    // No double quotes: the kernel command line that carries a job cannot hold them.
    script += "; do h=${t%:*}; p=${t#*:}; if nc -w 2 $h $p </dev/null 2>/dev/null | grep -q .; "
              "then echo $t open; else echo $t closed; fi; done";
    return script;
}

} // namespace husk_lab

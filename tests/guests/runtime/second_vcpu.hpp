// A second vCPU for race cases: started with INIT/SIPI through the local APIC, it runs
// `work(argument)` in a loop until the first vCPU stops it. Cases need husk-vmm's --vcpus 2.
#pragma once

#include <cstdint>

namespace guest {

using SecondVcpuWork = void (*)(uint64_t argument);

// False when there is no second vCPU or it did not come up.
bool start_second_vcpu(SecondVcpuWork work, uint64_t argument);
// Asks it to stop and waits until it has (it then spins, harmless).
void stop_second_vcpu();
// How many times the second vCPU ran `work`.
uint64_t second_vcpu_rounds();

} // namespace guest

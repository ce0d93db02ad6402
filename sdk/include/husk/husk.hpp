// libhusk: everything a host application needs to run untrusted code in husk micro-VMs.
#pragma once

#include "husk/error.hpp"
#include "husk/exit_status.hpp"
#include "husk/options.hpp"
#include "husk/pool.hpp"
#include "husk/process.hpp"
#include "husk/run_result.hpp"
#include "husk/sandbox.hpp"
#include "husk/units.hpp"
#include "husk/version.hpp"

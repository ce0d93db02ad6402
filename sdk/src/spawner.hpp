// Runs work on one process-wide thread that never exits. Children forked there keep their
// PR_SET_PDEATHSIG armed until the whole host process dies, whichever thread asked for them.
#pragma once

#include <functional>

namespace husk::detail {

// Runs `work` on the spawner thread and returns when it has finished.
void run_on_spawner_thread(std::function<void()> const& work);

} // namespace husk::detail

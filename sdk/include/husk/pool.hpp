// Pool: a warm pool of sandboxes restored from one snapshot (docs/snapshots.md). It keeps `size`
// of them restored and ready in the background, hands each out once (take() moves it to the
// caller, who owns it from then on) and restores a replacement at once.
//
//   auto pool = HUSK_TRY(husk::Pool::create({ .snapshot_directory = "/var/lib/app/ready", .size = 8 }));
//   auto sandbox = HUSK_TRY(pool.take());   // a VM nobody else ever gets
#pragma once

#include "husk/options.hpp"
#include "husk/result.hpp"
#include "husk/sandbox.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace husk {

struct PoolOptions {
    std::string snapshot_directory; ///< written by Sandbox::snapshot()
    size_t size { 4 }; ///< sandboxes kept ready, 1..256
    size_t parallel_restores { 2 }; ///< restores in flight at once while filling, 1..size
    SandboxOptions sandbox {}; ///< what every Sandbox::restore() gets
};

class Pool {
public:
    /// Checks the options and starts filling in the background; returns at once. Errors:
    /// BadConfig (no snapshot there, a size out of range).
    static Result<Pool> create(PoolOptions options);
    Pool(Pool&&) noexcept;
    Pool& operator=(Pool&&) noexcept;
    Pool(Pool const&) = delete;
    Pool& operator=(Pool const&) = delete;
    /// Stops filling and shuts down every sandbox still waiting in the pool.
    ~Pool();

    /// A ready sandbox, waiting up to `timeout` for one. It is the caller's alone: the pool never
    /// hands the same VM out twice. Errors: Timeout, carrying the last restore error if restores
    /// have been failing.
    Result<Sandbox> take(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Sandboxes ready right now.
    size_t ready() const;

private:
    struct State;
    explicit Pool(std::shared_ptr<State> state);
    std::shared_ptr<State> m_state;
};

} // namespace husk

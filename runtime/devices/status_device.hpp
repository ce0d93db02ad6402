// StatusDevice: the host side of the husk status port (guest-init/protocol/status_port.hpp).
// husk-init reports its start, the job's outcome and an intended shutdown here. The guest is
// untrusted: every write is checked, anything malformed is counted and otherwise ignored.
#pragma once

#include "guest-init/protocol/status_port.hpp"
#include "runtime/devices/bus.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace husk {

// What the guest has reported so far. At most one of exit_code, signal and spawn_error is set:
// the first job status wins.
struct GuestStatus {
    std::optional<std::chrono::steady_clock::time_point> boot_marker_time;
    std::optional<uint8_t> exit_code;
    std::optional<uint8_t> signal;
    std::optional<status_port::SpawnError> spawn_error;
    bool shutdown_intent { false };
    uint32_t invalid_writes { 0 };
    // When the job status and the shutdown intent arrived (the report's timeline; not saved).
    std::optional<std::chrono::steady_clock::time_point> job_status_time;
    std::optional<std::chrono::steady_clock::time_point> shutdown_intent_time;
    // When husk-init's agent reported listening (the first valid write; a repeat is invalid).
    // Not saved with a snapshot either: a restored VM never waits for it.
    std::optional<std::chrono::steady_clock::time_point> agent_listening_time;
};

// What a snapshot keeps of GuestStatus: the boot marker's time is a host clock reading that means
// nothing in another process, so only whether it was seen.
struct StatusDeviceState {
    bool boot_marker_seen { false };
    std::optional<uint8_t> exit_code;
    std::optional<uint8_t> signal;
    std::optional<status_port::SpawnError> spawn_error;
    bool shutdown_intent { false };
    uint32_t invalid_writes { 0 };
};

class StatusDevice final : public BusDevice {
public:
    // Invalid writes beyond this many are counted but not logged, so a hostile guest cannot
    // flood the host's log.
    static constexpr uint32_t max_logged_invalid_writes = 5;

    // on_boot_marker and on_agent_listening are called (from the writing vCPU's thread, outside
    // any lock) when the first valid boot marker, or agent-listening write, arrives; empty means
    // no callback.
    explicit StatusDevice(std::function<void()> on_boot_marker, std::function<void()> on_agent_listening = {});

    void read(uint64_t offset, std::span<uint8_t> data) override; // always 0
    void write(uint64_t offset, std::span<uint8_t const> data) override;

    // A consistent snapshot, safe to call from any thread.
    GuestStatus status() const;

    StatusDeviceState save_state() const;
    // A restored boot marker is kept for the next snapshot but has no time here (the report then
    // has no boot-to-init figure, which would mean nothing for a restored guest).
    void restore_state(StatusDeviceState const& state);

private:
    // Which callback a valid write calls once the lock is released.
    enum class Marker { None, Boot, AgentListening };
    // Applies one write with m_lock held; returns why it is invalid, or an empty string.
    std::string apply(uint64_t offset, std::span<uint8_t const> data, Marker& marker);
    // A marker's first valid write: notes its time and which callback follows; a repeat is invalid.
    static std::string record_once(
        std::optional<std::chrono::steady_clock::time_point>& time, Marker kind, Marker& marker);
    std::string apply_job_status(uint64_t offset, uint32_t value);
    bool has_job_status() const;

    std::function<void()> const m_on_boot_marker;
    std::function<void()> const m_on_agent_listening;
    mutable std::mutex m_lock;
    GuestStatus m_status;
    bool m_boot_marker_before_restore { false };
};

} // namespace husk

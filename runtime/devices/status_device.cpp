// StatusDevice: validation of the status port ABI. Values are little-endian (x86 `outl`).
#include "runtime/devices/status_device.hpp"

#include "runtime/base/log.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace husk {

namespace {
constexpr size_t byte_width = sizeof(uint8_t); // the boot marker is written with outb
constexpr size_t word_width = sizeof(uint32_t); // everything else with outl
constexpr uint32_t max_exit_code = 255;
constexpr uint32_t max_signal = 64; // Linux's _NSIG

uint32_t little_endian_value(std::span<uint8_t const> data)
{
    uint32_t value = 0;
    for (size_t i = 0; i < data.size() && i < sizeof value; ++i)
        value |= static_cast<uint32_t>(data[i]) << (8 * i);
    return value;
}

std::string describe_write(uint64_t offset, std::span<uint8_t const> data)
{
    char text[96];
    std::snprintf(text, sizeof text, "offset %#" PRIx64 ", %zu byte(s), value %#" PRIx32, offset, data.size(),
        little_endian_value(data));
    return text;
}
} // namespace

StatusDevice::StatusDevice(std::function<void()> on_boot_marker, std::function<void()> on_agent_listening)
    : m_on_boot_marker(std::move(on_boot_marker))
    , m_on_agent_listening(std::move(on_agent_listening))
{
}

StatusDeviceState StatusDevice::save_state() const
{
    std::lock_guard lock(m_lock);
    return { m_status.boot_marker_time.has_value() || m_boot_marker_before_restore, m_status.exit_code, m_status.signal, m_status.spawn_error,
        m_status.shutdown_intent, m_status.invalid_writes };
}

void StatusDevice::restore_state(StatusDeviceState const& state)
{
    std::lock_guard lock(m_lock);
    m_status = {};
    m_boot_marker_before_restore = state.boot_marker_seen;
    m_status.exit_code = state.exit_code;
    m_status.signal = state.signal;
    m_status.spawn_error = state.spawn_error;
    m_status.shutdown_intent = state.shutdown_intent;
    m_status.invalid_writes = state.invalid_writes;
}

void StatusDevice::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), uint8_t { 0 }); }

void StatusDevice::write(uint64_t offset, std::span<uint8_t const> data)
{
    Marker marker = Marker::None;
    std::string problem;
    uint32_t invalid_writes = 0;
    {
        std::lock_guard lock(m_lock);
        problem = apply(offset, data, marker);
        if (!problem.empty() && m_status.invalid_writes < UINT32_MAX)
            ++m_status.invalid_writes;
        invalid_writes = m_status.invalid_writes;
    }
    if (!problem.empty() && invalid_writes <= max_logged_invalid_writes) {
        log_warn("status device: ignoring guest write (" + describe_write(offset, data) + "): " + problem
            + (invalid_writes == max_logged_invalid_writes ? "; further invalid writes are only counted" : ""));
    }
    if (marker == Marker::Boot && m_on_boot_marker)
        m_on_boot_marker();
    if (marker == Marker::AgentListening && m_on_agent_listening)
        m_on_agent_listening();
}

GuestStatus StatusDevice::status() const
{
    std::lock_guard lock(m_lock);
    return m_status;
}

std::string StatusDevice::apply(uint64_t offset, std::span<uint8_t const> data, Marker& marker)
{
    if (offset == status_port::boot_marker) {
        if (data.size() != byte_width)
            return "the boot marker is one byte wide";
        if (data[0] != status_port::boot_marker_value)
            return "not the boot marker value";
        return record_once(m_status.boot_marker_time, Marker::Boot, marker);
    }
    bool known = offset == status_port::job_exit_code || offset == status_port::job_signal
        || offset == status_port::job_spawn_error || offset == status_port::shutdown_intent
        || offset == status_port::agent_listening;
    if (!known)
        return "unknown register";
    if (data.size() != word_width)
        return "this register is four bytes wide";
    uint32_t value = little_endian_value(data);
    if (offset == status_port::agent_listening) {
        // Taken whenever it comes (before the boot marker too): it only ends the host's hold of
        // the guest's own connects, which a guest could as well leave unanswered.
        if (value != status_port::agent_listening_value)
            return "not the agent-listening value";
        return record_once(m_status.agent_listening_time, Marker::AgentListening, marker);
    }
    if (offset == status_port::shutdown_intent) {
        if (value != status_port::shutdown_intent_value)
            return "not the shutdown intent value";
        m_status.shutdown_intent = true; // idempotent: repeating it is harmless
        if (!m_status.shutdown_intent_time)
            m_status.shutdown_intent_time = std::chrono::steady_clock::now();
        return {};
    }
    auto invalid = apply_job_status(offset, value);
    if (invalid.empty())
        m_status.job_status_time = std::chrono::steady_clock::now();
    return invalid;
}

std::string StatusDevice::record_once(
    std::optional<std::chrono::steady_clock::time_point>& time, Marker kind, Marker& marker)
{
    if (time)
        return "repeated marker";
    time = std::chrono::steady_clock::now();
    marker = kind;
    return {};
}

std::string StatusDevice::apply_job_status(uint64_t offset, uint32_t value)
{
    if (has_job_status())
        return "the job status was already reported";
    if (offset == status_port::job_exit_code) {
        if (value > max_exit_code)
            return "exit code out of range 0..255";
        m_status.exit_code = static_cast<uint8_t>(value);
    } else if (offset == status_port::job_signal) {
        if (value == 0 || value > max_signal)
            return "signal out of range 1..64";
        m_status.signal = static_cast<uint8_t>(value);
    } else {
        if (value == 0 || value > status_port::spawn_error_max)
            return "unknown spawn error";
        m_status.spawn_error = static_cast<status_port::SpawnError>(value);
    }
    return {};
}

bool StatusDevice::has_job_status() const { return m_status.exit_code || m_status.signal || m_status.spawn_error; }

} // namespace husk

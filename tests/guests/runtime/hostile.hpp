// The hostile-driver framework: device kinds, sessions and cases.
//
// A *device kind* says how to find a device among husk's virtio-mmio slots, how to bring it up
// normally and how to check that a well-formed request works (its probe). A *case* attacks a
// session of its kind. Generic cases (kind "*") run against every kind marked `generic_target`,
// named "<kind>.<case>"; device cases are named "<kind>.<case>" too. Both register themselves by
// being linked in (a section of their own), so a new device is one more file with its kind and
// its cases, and the lab suite learns the names by booting the guest with hostile.case=list.
#pragma once

#include "console.hpp"
#include "driver_queue.hpp"
#include "power.hpp"
#include "virtio_device.hpp"

#include <cstdint>

namespace guest {

inline constexpr uint16_t max_queues = 4;
// Queue size of a normal session: small, so attacks that fill a ring stay cheap.
inline constexpr uint16_t session_queue_size = 16;
// Descriptor slots a probe uses: the top of the table, away from the low slots attacks use.
inline constexpr uint16_t probe_slot = session_queue_size - 4;

struct DeviceKind;

struct Session {
    VirtioDevice device;
    DeviceKind const* kind { nullptr };
    DriverQueue queues[max_queues];
    uint64_t features { 0 };

    DriverQueue& data_queue();
};

struct DeviceKind {
    char const* name;
    uint32_t device_id;
    bool (*matches)(VirtioDevice const&); // among devices of device_id; nullptr: any
    uint16_t queue_count;
    uint16_t data_queue; // the queue generic attacks hit
    uint16_t data_flags; // descriptor flags of a plain buffer on the data queue
    uint64_t wanted_features; // besides VIRTIO_F_VERSION_1, when offered
    void (*prepare)(Session&); // after DRIVER_OK (post receive buffers); nullptr: nothing
    bool (*probe)(Session&); // a well-formed request works
    bool generic_target; // generic cases run against this kind
};

// What an attack leaves behind.
enum class After {
    Probe, // the session is still the normal one: unless the device is in NEEDS_RESET, probe it
    Reinit, // the driver side broke the session on purpose (odd setup, scribbled rings)
};

struct Case {
    char const* kind; // a DeviceKind name, or "*" for every generic target
    char const* name;
    After (*run)(Session&);
};

// Resets the device and brings it up normally with `extra` features (when offered) and queues of
// `queue_size`; false when the device does not reach DRIVER_OK.
bool open_session(Session& session, uint64_t extra_features = 0, uint16_t queue_size = session_queue_size);
// The same with exactly the offered part of `features` (VERSION_1 not added).
bool open_session_exact(Session& session, uint64_t features, uint16_t queue_size = session_queue_size);
// The same without the kind's prepare step (no receive buffers posted): for cases that build
// their receive ring themselves.
bool open_session_bare(Session& session, uint64_t features, uint16_t queue_size = session_queue_size);

// Prints why and ends the case with DeviceMisbehaved.
[[noreturn]] void misbehaved(char const* why);

// A scratch buffer in RAM of at least `size` bytes.
uint64_t scratch(uint64_t size);

#define HOSTILE_CONCAT2(a, b) a##b
#define HOSTILE_CONCAT(a, b) HOSTILE_CONCAT2(a, b)

#define HOSTILE_DEVICE_KIND(identifier)                                                                                \
    [[gnu::used, gnu::section("hostile_kinds")]] constexpr ::guest::DeviceKind const* HOSTILE_CONCAT(                  \
        identifier, _registration)                                                                                     \
        = &identifier

// HOSTILE_CASE("vsock", spoofed_src_cid) { ...; return After::Probe; }
// The section holds pointers, not the Case objects: 8-byte entries with no padding between them
// (the ABI may align a 24-byte object to 16).
#define HOSTILE_CASE(kind_name, case_name)                                                                             \
    static ::guest::After case_name(::guest::Session& session);                                                        \
    constexpr ::guest::Case HOSTILE_CONCAT(case_name, _case) { kind_name, #case_name, case_name };                     \
    [[gnu::used, gnu::section("hostile_cases")]] constexpr ::guest::Case const* HOSTILE_CONCAT(                        \
        case_name, _registration)                                                                                      \
        = &HOSTILE_CONCAT(case_name, _case);                                                                           \
    static ::guest::After case_name([[maybe_unused]] ::guest::Session& session)

} // namespace guest

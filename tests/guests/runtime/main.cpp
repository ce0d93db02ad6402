// guest_main: finds the case named on the command line and its device, runs the attack, then
// checks the device still serves a well-formed request (unless it asked for a reset) and serves
// one again after a reset. `hostile.case=list` prints every case name instead.
#include "arena.hpp"
#include "boot_info.hpp"
#include "clock.hpp"
#include "hostile.hpp"

extern "C" {
extern guest::Case const* const __start_hostile_cases[];
extern guest::Case const* const __stop_hostile_cases[];
extern guest::DeviceKind const* const __start_hostile_kinds[];
extern guest::DeviceKind const* const __stop_hostile_kinds[];
}

namespace guest {

DriverQueue& Session::data_queue() { return queues[kind->data_queue]; }

uint64_t scratch(uint64_t size) { return allocate(size, 4096); }

void misbehaved(char const* why)
{
    print("hostile: the device misbehaved: ");
    println(why);
    finish(Verdict::DeviceMisbehaved);
}

bool open_session(Session& session, uint64_t extra_features, uint16_t queue_size)
{
    return open_session_exact(session,
        feature_mask(husk::virtio::feature::version_1) | session.kind->wanted_features | extra_features, queue_size);
}

bool open_session_exact(Session& session, uint64_t features, uint16_t queue_size)
{
    if (!open_session_bare(session, features, queue_size))
        return false;
    if (session.kind->prepare)
        session.kind->prepare(session);
    return true;
}

bool open_session_bare(Session& session, uint64_t features, uint16_t queue_size)
{
    auto const& kind = *session.kind;
    auto& device = session.device;
    session.features = device.offered_features() & features;
    if (!device.negotiate(session.features))
        return false;
    for (uint16_t index = 0; index < kind.queue_count; ++index)
        session.queues[index] = DriverQueue::create(device, index, queue_size);
    device.add_status(vstatus::driver_ok);
    return device.is_live();
}

namespace {

    void print_case_names()
    {
        for (auto const* const* slot = __start_hostile_cases; slot != __stop_hostile_cases; ++slot) {
            auto const* entry = *slot;
            for (auto const* const* kind = __start_hostile_kinds; kind != __stop_hostile_kinds; ++kind) {
                bool runs = equal(entry->kind, "*") ? (*kind)->generic_target : equal(entry->kind, (*kind)->name);
                if (!runs)
                    continue;
                print("hostile-case: ");
                print((*kind)->name);
                print(".");
                print(entry->name);
                // The suite's sanitizer subset tells the generic cases from the device's own.
                println(equal(entry->kind, "*") ? " generic" : "");
            }
        }
    }

    // "<kind>.<case>" into its parts; nullptr when either is unknown.
    Case const* find_case(char const* full_name, DeviceKind const*& kind_out)
    {
        for (auto const* const* kind = __start_hostile_kinds; kind != __stop_hostile_kinds; ++kind) {
            char const* name = (*kind)->name;
            if (!starts_with(full_name, name) || full_name[0] == 0)
                continue;
            char const* rest = full_name;
            for (char const* k = name; *k; ++k)
                ++rest;
            if (*rest != '.')
                continue;
            ++rest;
            for (auto const* const* slot = __start_hostile_cases; slot != __stop_hostile_cases; ++slot) {
                auto const* entry = *slot;
                bool applies = equal(entry->kind, "*") ? (*kind)->generic_target : equal(entry->kind, name);
                if (applies && equal(entry->name, rest)) {
                    kind_out = *kind;
                    return entry;
                }
            }
        }
        return nullptr;
    }

    bool find_device(BootInfo const& info, DeviceKind const& kind, VirtioDevice& out)
    {
        for (size_t i = 0; i < info.slot_count; ++i) {
            VirtioDevice device(info.slots[i]);
            if (!device.is_virtio() || device.device_id() != kind.device_id)
                continue;
            if (kind.matches && !kind.matches(device))
                continue;
            out = device;
            return true;
        }
        return false;
    }

} // namespace

} // namespace guest

extern "C" [[noreturn]] void guest_main(uint64_t boot_params)
{
    using namespace guest;
    auto info = read_boot_info(boot_params);
    if (!start_clock())
        println("hostile: no kvmclock; waits are counted in polls instead of time");
    if (equal(info.case_name, "list")) {
        print_case_names();
        finish(Verdict::Passed);
    }
    DeviceKind const* kind = nullptr;
    auto const* hostile_case = find_case(info.case_name, kind);
    if (!hostile_case) {
        print("hostile: unknown case '");
        print(info.case_name);
        println("'");
        finish(Verdict::UnknownCase);
    }
    print("hostile: case ");
    println(info.case_name);

    Session session;
    session.kind = kind;
    if (!find_device(info, *kind, session.device) || !open_session(session)) {
        println("hostile: the target device is missing or did not come up");
        finish(Verdict::SetupFailed);
    }

    After after = hostile_case->run(session);

    if (after == After::Probe) {
        // Late completions of the attack's requests first: the probe reuses head numbers.
        UsedElement late {};
        while (session.data_queue().wait_used(late, 100 * milliseconds) == WaitResult::Used) { }
        if (session.device.needs_reset()) {
            println("hostile: the device asked for a reset after the attack");
        } else if (!session.device.is_live()) {
            println("hostile: the device is not live after the attack");
        } else if (!kind->probe(session)) {
            // The device may notice a ring-level fault only after the check above (its event
            // thread runs on its own): asking for a reset then is the right answer too.
            if (!session.device.needs_reset()) {
                println("hostile: a well-formed request failed after the attack");
                finish(Verdict::ProbeAfterAttackFailed);
            }
            println("hostile: the device asked for a reset during the probe");
        }
    }
    if (!open_session(session) || !kind->probe(session)) {
        println("hostile: a well-formed request failed after a reset");
        finish(Verdict::ProbeAfterResetFailed);
    }
    finish(Verdict::Passed);
}

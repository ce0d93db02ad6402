// Races on two vCPUs (the lab runs every case with --vcpus 2): the second vCPU kicks, reads
// config and status, or writes registers in a loop while the first resets and re-initialises
// the device with requests in flight. Transport and device state are shared between vCPU
// threads and the event thread: nothing may crash, deadlock or leak.
#include "case_helpers.hpp"
#include "runtime/io.hpp"
#include "runtime/second_vcpu.hpp"

namespace guest {

namespace {
    // Re-initialises the session's device on the same ring memory and puts one request in.
    void churn_once(Session& session)
    {
        auto& device = session.device;
        device.reset();
        if (!device.negotiate(session.features))
            return;
        for (uint16_t index = 0; index < session.kind->queue_count; ++index) {
            auto const& q = session.queues[index];
            device.configure_queue(index, q.size(), q.descriptor_address(), q.avail_address(), q.used_address());
        }
        device.add_status(vstatus::driver_ok);
        auto& queue = data_queue(session);
        queue.set(0, scratch(64), 64, data_flags(session));
        queue.stage(0);
        queue.publish();
        queue.kick();
    }

    After race(Session& session, SecondVcpuWork work, uint32_t rounds)
    {
        if (!start_second_vcpu(work, session.device.base())) {
            println("hostile: the second vCPU did not start (run with --vcpus 2)");
            finish(Verdict::SetupFailed);
        }
        for (uint32_t round = 0; round < rounds; ++round)
            churn_once(session);
        stop_second_vcpu();
        print("hostile: second vCPU rounds: ");
        print_decimal(second_vcpu_rounds());
        println("");
        return After::Reinit;
    }

    void kick_all(uint64_t base)
    {
        for (uint32_t queue = 0; queue < 4; ++queue)
            mmio_write32(base + mmio::queue_notify, queue);
    }

    void read_config_and_status(uint64_t base)
    {
        for (uint64_t offset = mmio::config; offset < mmio::config + 64; offset += 4)
            (void)mmio_read32(base + offset);
        (void)mmio_read32(base + mmio::status);
        (void)mmio_read32(base + mmio::interrupt_status);
        mmio_write32(base + mmio::interrupt_ack, 0xffff'ffff);
    }

    void write_queue_registers(uint64_t base)
    {
        for (uint32_t queue = 0; queue < 3; ++queue) {
            mmio_write32(base + mmio::queue_sel, queue);
            mmio_write32(base + mmio::queue_num, 8);
            mmio_write32(base + mmio::queue_ready, queue & 1);
            mmio_write32(base + mmio::queue_notify, queue);
        }
    }

    void write_status(uint64_t base)
    {
        static uint32_t counter = 0;
        constexpr uint32_t values[] = { 0, vstatus::acknowledge, vstatus::failed, vstatus::driver_ok, 0xff };
        mmio_write32(base + mmio::status, values[counter++ % 5]);
    }
} // namespace

HOSTILE_CASE("*", race_reset_vs_kick) { return race(session, kick_all, 200); }
HOSTILE_CASE("*", race_reset_vs_config_access) { return race(session, read_config_and_status, 200); }
HOSTILE_CASE("*", race_setup_vs_queue_registers) { return race(session, write_queue_registers, 200); }
HOSTILE_CASE("*", race_setup_vs_status_writes) { return race(session, write_status, 200); }

} // namespace guest

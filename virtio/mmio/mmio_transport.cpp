// MmioTransport: register decoding, device status state machine (virtio 1.2 §3.1.1 and §4.2.3),
// feature negotiation, queue setup and activation.
#include "virtio/mmio/mmio_transport.hpp"

#include "runtime/base/log.hpp"
#include "virtio/mmio/mmio_registers.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace husk {

namespace mmio = virtio::mmio;
namespace status = virtio::status;

namespace {
    constexpr uint64_t low_half(uint64_t value) { return value & 0xffffffffu; }
    constexpr uint64_t replace_half(uint64_t value, uint32_t half, bool high)
    {
        return high ? (low_half(value) | (uint64_t { half } << 32)) : ((value & ~uint64_t { 0xffffffffu }) | half);
    }
} // namespace

Result<std::unique_ptr<MmioTransport>> MmioTransport::create(
    GuestMemory& memory, VirtioDevice& device, InterruptTrigger& trigger)
{
    for (uint16_t index = 0; index < device.queue_count(); ++index) {
        auto size = device.queue_max_size(index);
        if (size == 0 || size > virtio::max_queue_size || !std::has_single_bit(size))
            return fail(
                "virtio device queue " + std::to_string(index) + " has invalid maximum size " + std::to_string(size));
    }
    return std::unique_ptr<MmioTransport>(new MmioTransport(memory, device, trigger));
}

MmioTransport::MmioTransport(GuestMemory& memory, VirtioDevice& device, InterruptTrigger& trigger)
    : m_memory(memory)
    , m_device(device)
    , m_interrupt(trigger)
    , m_queue_registers(device.queue_count())
{
}

MmioTransport::~MmioTransport()
{
    std::lock_guard guard(m_mutex);
    if (m_activated)
        m_device.reset(); // the device must not keep references to our queues
}

uint64_t MmioTransport::offered_features() const
{
    return m_device.features() | virtio::feature_mask(virtio::feature::version_1);
}

uint32_t MmioTransport::device_status() const
{
    std::lock_guard guard(m_mutex);
    return m_status | (m_interrupt.needs_reset() ? status::device_needs_reset : 0);
}

bool MmioTransport::is_activated() const
{
    std::lock_guard guard(m_mutex);
    return m_activated;
}

MmioTransportStats MmioTransport::stats() const
{
    std::lock_guard guard(m_mutex);
    return m_stats;
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data)
{
    std::lock_guard guard(m_mutex);
    std::fill(data.begin(), data.end(), 0);
    if (offset >= mmio::config) {
        if (data.size() != 1 && data.size() != 2 && data.size() != 4) {
            ++m_stats.bad_width;
            return;
        }
        m_device.read_config(offset - mmio::config, data);
        return;
    }
    if (data.size() != mmio::register_width || offset % mmio::register_width != 0) {
        ++m_stats.bad_width;
        return;
    }
    uint32_t value = read_register(offset);
    std::memcpy(data.data(), &value, sizeof value);
}

void MmioTransport::write(uint64_t offset, std::span<uint8_t const> data)
{
    std::lock_guard guard(m_mutex);
    if (offset >= mmio::config) {
        if (data.size() != 1 && data.size() != 2 && data.size() != 4) {
            ++m_stats.bad_width;
            return;
        }
        m_device.write_config(offset - mmio::config, data);
        return;
    }
    if (data.size() != mmio::register_width || offset % mmio::register_width != 0) {
        ++m_stats.bad_width;
        return;
    }
    uint32_t value = 0;
    std::memcpy(&value, data.data(), sizeof value);
    write_register(offset, value);
}

uint32_t MmioTransport::read_register(uint64_t offset)
{
    bool queue_exists = m_queue_select < m_queue_registers.size();
    switch (offset) {
    case mmio::magic_value:
        return mmio::magic;
    case mmio::version:
        return mmio::version_2;
    case mmio::device_id:
        return static_cast<uint32_t>(m_device.device_type());
    case mmio::vendor_id:
        return mmio::vendor_husk;
    case mmio::device_features:
        if (m_device_features_select > 1)
            return 0; // only 64 feature bits exist
        return static_cast<uint32_t>(offered_features() >> (32 * m_device_features_select));
    case mmio::queue_num_max:
        return queue_exists ? m_device.queue_max_size(static_cast<uint16_t>(m_queue_select)) : 0;
    case mmio::queue_ready:
        return queue_exists && m_queue_registers[m_queue_select].ready ? 1 : 0;
    case mmio::interrupt_status:
        return m_interrupt.status();
    case mmio::status:
        return m_status | (m_interrupt.needs_reset() ? status::device_needs_reset : 0);
    case mmio::shm_len_low:
    case mmio::shm_len_high:
    case mmio::shm_base_low:
    case mmio::shm_base_high:
        return mmio::shm_absent;
    case mmio::config_generation:
        return m_interrupt.config_generation();
    default:
        ++m_stats.ignored_reads;
        return 0;
    }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value)
{
    switch (offset) {
    case mmio::device_features_sel:
        m_device_features_select = value;
        return;
    case mmio::driver_features:
        // Only while negotiating: after FEATURES_OK the accepted set is final.
        if (!status_has(status::acknowledge | status::driver) || (m_status & (status::features_ok | status::failed))
            || m_driver_features_select > 1) {
            ++m_stats.ignored_writes;
            return;
        }
        m_driver_features = replace_half(m_driver_features, value, m_driver_features_select == 1);
        return;
    case mmio::driver_features_sel:
        m_driver_features_select = value;
        return;
    case mmio::queue_sel:
        m_queue_select = value;
        return;
    case mmio::queue_num:
    case mmio::queue_ready:
    case mmio::queue_desc_low:
    case mmio::queue_desc_high:
    case mmio::queue_driver_low:
    case mmio::queue_driver_high:
    case mmio::queue_device_low:
    case mmio::queue_device_high:
        write_queue_register(offset, value);
        return;
    case mmio::queue_notify:
        notify_locked(value);
        return;
    case mmio::interrupt_ack:
        m_interrupt.acknowledge(value);
        return;
    case mmio::status:
        write_status(value);
        return;
    case mmio::shm_sel:
        return; // no shared memory regions: every selection reads as absent
    default:
        ++m_stats.ignored_writes;
        return;
    }
}

void MmioTransport::write_queue_register(uint64_t offset, uint32_t value)
{
    // Queues are configured between FEATURES_OK and DRIVER_OK (§3.1.1 step 7) and frozen after:
    // the device may be using them from another thread.
    bool configuring = status_has(status::features_ok) && !(m_status & (status::driver_ok | status::failed))
        && !m_interrupt.needs_reset();
    if (!configuring || m_queue_select >= m_queue_registers.size()) {
        ++m_stats.ignored_writes;
        return;
    }
    auto& queue = m_queue_registers[m_queue_select];
    switch (offset) {
    case mmio::queue_num:
        // Checked against QueueNumMax and the power-of-two rule at DRIVER_OK.
        queue.size = value > UINT16_MAX ? 0 : static_cast<uint16_t>(value); // 0 is refused at activation
        return;
    case mmio::queue_ready:
        queue.ready = value == 1;
        return;
    case mmio::queue_desc_low:
    case mmio::queue_desc_high:
        queue.descriptor_table = replace_half(queue.descriptor_table, value, offset == mmio::queue_desc_high);
        return;
    case mmio::queue_driver_low:
    case mmio::queue_driver_high:
        queue.avail_ring = replace_half(queue.avail_ring, value, offset == mmio::queue_driver_high);
        return;
    case mmio::queue_device_low:
    case mmio::queue_device_high:
        queue.used_ring = replace_half(queue.used_ring, value, offset == mmio::queue_device_high);
        return;
    }
}

void MmioTransport::notify_queue(uint32_t index)
{
    std::lock_guard guard(m_mutex);
    notify_locked(index);
}

void MmioTransport::notify_locked(uint32_t index)
{
    if (!m_activated || m_interrupt.needs_reset() || index >= m_queue_registers.size()) {
        ++m_stats.ignored_writes;
        return;
    }
    m_device.queue_notify(static_cast<uint16_t>(index));
}

void MmioTransport::write_status(uint32_t value)
{
    if (value == 0) {
        reset_locked();
        return;
    }
    // NEEDS_RESET belongs to the device; drivers write back what they read (Linux ORs new bits
    // into the current status), so drop it rather than reject the write.
    value &= ~status::device_needs_reset;
    uint32_t added = value & ~m_status;
    if ((value & m_status) != m_status) {
        ++m_stats.rejected_status; // clearing bits is only possible through a full reset
        return;
    }
    if (added == 0)
        return;
    if (added == status::failed) {
        m_status |= status::failed; // the driver gave up; it will reset the device
        return;
    }
    if (m_status & status::failed) {
        ++m_stats.rejected_status;
        return;
    }

    if (added == status::acknowledge && m_status == 0) {
        m_status = status::acknowledge;
    } else if (added == status::driver && m_status == status::acknowledge) {
        m_status |= status::driver;
    } else if (added == status::features_ok && m_status == (status::acknowledge | status::driver)) {
        // A refused set leaves FEATURES_OK clear; the driver reads it back and gives up (§3.1.1).
        if (negotiate_features())
            m_status |= status::features_ok;
    } else if (added == status::driver_ok && m_status == (status::acknowledge | status::driver | status::features_ok)) {
        activate();
    } else {
        ++m_stats.rejected_status;
    }
}

bool MmioTransport::negotiate_features()
{
    uint64_t unoffered = m_driver_features & ~offered_features();
    if (unoffered != 0) {
        log_warn("virtio-mmio: driver accepted features never offered: " + std::to_string(unoffered));
        return false;
    }
    if (!virtio::has_feature(m_driver_features, virtio::feature::version_1)) {
        log_warn("virtio-mmio: driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)");
        return false;
    }
    return true;
}

void MmioTransport::activate()
{
    auto refuse = [&](std::string const& why) {
        log_warn("virtio-mmio: cannot activate device " + std::to_string(static_cast<uint32_t>(m_device.device_type()))
            + ": " + why);
        m_queues.clear();
        m_interrupt.signal_needs_reset();
    };

    m_queues.clear();
    m_queues.reserve(m_queue_registers.size());
    for (uint16_t index = 0; index < m_queue_registers.size(); ++index) {
        auto const& registers = m_queue_registers[index];
        if (!registers.ready) {
            m_queues.emplace_back();
            continue;
        }
        if (registers.size > m_device.queue_max_size(index))
            return refuse(
                "queue " + std::to_string(index) + " size " + std::to_string(registers.size) + " above maximum");
        QueueLayout layout { registers.size, GuestAddress(registers.descriptor_table),
            GuestAddress(registers.avail_ring), GuestAddress(registers.used_ring) };
        auto queue = SplitQueue::create(m_memory, layout, m_driver_features);
        if (!queue)
            return refuse("queue " + std::to_string(index) + ": " + queue.error().message);
        m_queues.push_back(std::move(queue).value());
    }
    auto activated = m_device.activate(m_memory, m_queues, m_interrupt, m_driver_features);
    if (!activated)
        return refuse(activated.error().message);
    m_status |= status::driver_ok;
    m_activated = true;
}

void MmioTransport::reset_locked()
{
    if (m_activated)
        m_device.reset();
    m_activated = false;
    m_queues.clear();
    std::fill(m_queue_registers.begin(), m_queue_registers.end(), QueueRegisters {});
    m_status = 0;
    m_device_features_select = 0;
    m_driver_features_select = 0;
    m_driver_features = 0;
    m_queue_select = 0;
    m_interrupt.reset();
}

} // namespace husk

namespace husk {

MmioTransportState MmioTransport::save_state() const
{
    std::lock_guard guard(m_mutex);
    MmioTransportState state;
    state.status = m_status;
    state.device_features_select = m_device_features_select;
    state.driver_features_select = m_driver_features_select;
    state.driver_features = m_driver_features;
    state.queue_select = m_queue_select;
    state.interrupt_status = m_interrupt.status();
    state.needs_reset = m_interrupt.needs_reset();
    state.config_generation = m_interrupt.config_generation();
    for (size_t index = 0; index < m_queue_registers.size(); ++index) {
        auto const& registers = m_queue_registers[index];
        MmioQueueState queue { registers.size, registers.ready, registers.descriptor_table, registers.avail_ring,
            registers.used_ring };
        if (m_activated && index < m_queues.size() && m_queues[index].is_ready()) {
            queue.next_avail = m_queues[index].next_avail_index();
            queue.next_used = m_queues[index].next_used_index();
            queue.signalled_used = m_queues[index].signalled_used_index();
        }
        state.queues.push_back(queue);
    }
    return state;
}

Result<void> MmioTransport::restore_state(MmioTransportState const& state)
{
    std::lock_guard guard(m_mutex);
    std::string device = "virtio device " + std::to_string(static_cast<uint32_t>(m_device.device_type()));
    if (m_activated || m_status != 0)
        return fail(device + ": restore into a transport already in use");
    if (state.queues.size() != m_queue_registers.size())
        return fail(device + ": the snapshot has " + std::to_string(state.queues.size()) + " queues, the device "
            + std::to_string(m_queue_registers.size()));
    constexpr uint32_t known_status = status::acknowledge | status::driver | status::features_ok
        | status::driver_ok | status::failed;
    if ((state.status & ~known_status) != 0)
        return fail(device + ": unknown status bits " + std::to_string(state.status));
    if ((state.driver_features & ~offered_features()) != 0)
        return fail(device + ": the snapshot's driver features were never offered by this device");
    for (uint16_t index = 0; index < m_queue_registers.size(); ++index) {
        auto const& queue = state.queues[index];
        if (queue.size > m_device.queue_max_size(index))
            return fail(device + ": queue " + std::to_string(index) + " size " + std::to_string(queue.size)
                + " above its maximum");
        m_queue_registers[index]
            = { queue.size, queue.ready, queue.descriptor_table, queue.avail_ring, queue.used_ring };
    }
    m_device_features_select = state.device_features_select;
    m_driver_features_select = state.driver_features_select;
    m_driver_features = state.driver_features;
    m_queue_select = state.queue_select;
    m_interrupt.restore(state.interrupt_status, state.needs_reset, state.config_generation);

    bool was_active = (state.status & status::driver_ok) != 0 && (state.status & status::failed) == 0;
    if (!was_active) {
        m_status = state.status;
        return {};
    }
    m_queues.clear();
    for (uint16_t index = 0; index < m_queue_registers.size(); ++index) {
        auto const& registers = m_queue_registers[index];
        if (!registers.ready) {
            m_queues.emplace_back();
            continue;
        }
        QueueLayout layout { registers.size, GuestAddress(registers.descriptor_table),
            GuestAddress(registers.avail_ring), GuestAddress(registers.used_ring) };
        auto queue = SplitQueue::create(m_memory, layout, m_driver_features);
        if (!queue) {
            m_queues.clear();
            return fail(device + ": queue " + std::to_string(index) + ": " + queue.error().message);
        }
        auto const& saved = state.queues[index];
        queue->restore_indices(saved.next_avail, saved.next_used, saved.signalled_used);
        m_queues.push_back(std::move(queue).value());
    }
    if (auto activated = m_device.activate(m_memory, m_queues, m_interrupt, m_driver_features); !activated) {
        m_queues.clear();
        return fail(device + ": " + activated.error().message);
    }
    m_status = state.status;
    m_activated = true;
    return {};
}

} // namespace husk

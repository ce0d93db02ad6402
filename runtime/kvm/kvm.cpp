// Kvm: /dev/kvm open, version and capability checks, system-level queries.
#include "runtime/kvm/kvm.hpp"
#include "runtime/kvm/kvm_abi.hpp"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <sys/ioctl.h>

namespace husk {

namespace {
    constexpr char const* kvm_device_path = "/dev/kvm";
    constexpr char const* sysfs_root = "/sys";
    // KVM never reports more CPUID entries than this (KVM_MAX_CPUID_ENTRIES); we start there and
    // still grow on E2BIG in case a future kernel raises it.
    constexpr size_t initial_cpuid_capacity = 256;
    constexpr size_t maximum_cpuid_capacity = 4096;

    struct RequiredCapability {
        int capability;
        char const* why;
    };

    constexpr RequiredCapability required_capabilities[] = {
        { KVM_CAP_IRQCHIP, "KVM lacks an in-kernel interrupt controller (KVM_CAP_IRQCHIP)" },
        { KVM_CAP_USER_MEMORY, "KVM cannot map guest memory from user space (KVM_CAP_USER_MEMORY)" },
        { KVM_CAP_IOEVENTFD, "KVM lacks ioeventfd support needed by virtio devices (KVM_CAP_IOEVENTFD)" },
        { KVM_CAP_IRQFD, "KVM lacks irqfd support needed to inject device interrupts (KVM_CAP_IRQFD)" },
        { KVM_CAP_SET_TSS_ADDR, "KVM cannot place the real-mode TSS (KVM_CAP_SET_TSS_ADDR)" },
        { KVM_CAP_IMMEDIATE_EXIT,
            "KVM lacks immediate_exit, needed to stop vCPUs without races (KVM_CAP_IMMEDIATE_EXIT)" },
        { KVM_CAP_EXT_CPUID, "KVM cannot report supported CPUID leaves (KVM_CAP_EXT_CPUID)" },
    };
} // namespace

Error kvm_open_error(int error)
{
    if (error == ENOENT || error == ENODEV || error == ENXIO)
        return Error { "this host has no KVM (/dev/kvm is missing): load kvm_intel or kvm_amd, or run inside the "
                       "lab with `tests/lab/run -- <command>`",
            error };
    if (error == EACCES || error == EPERM)
        return Error { "permission denied opening /dev/kvm: add this user to the kvm group "
                       "(`sudo usermod -aG kvm $USER`, then log in again)",
            error };
    return Error::from_errno("open /dev/kvm", error);
}

Result<Kvm> Kvm::open(PvmPolicy policy)
{
    KvmFlavour flavour = detect_kvm_flavour(sysfs_root);
    TRY(check_kvm_flavour(flavour, policy, std::getenv("HUSK_ALLOW_PVM")));

    int fd = ::open(kvm_device_path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return unexpected(kvm_open_error(errno));
    Kvm kvm(Fd(fd), flavour);

    int version = ::ioctl(kvm.fd(), KVM_GET_API_VERSION, 0);
    if (version < 0)
        return fail_errno("KVM_GET_API_VERSION");
    if (version != expected_api_version)
        return fail("/dev/kvm speaks KVM API version " + std::to_string(version) + ", husk needs version "
            + std::to_string(expected_api_version));
    TRY(kvm.check_capabilities());
    return kvm;
}

Result<Kvm> Kvm::another_handle() const
{
    int fd = ::fcntl(m_fd.get(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return fail_errno("dup of the /dev/kvm handle");
    return Kvm(Fd(fd), m_flavour);
}

Result<void> Kvm::check_capabilities() const
{
    for (auto const& required : required_capabilities) {
        int present = ::ioctl(m_fd.get(), KVM_CHECK_EXTENSION, required.capability);
        if (present < 0)
            return fail_errno("KVM_CHECK_EXTENSION");
        if (present == 0)
            return fail(std::string(required.why) + ": this host's KVM is too old or restricted for husk");
    }
    return {};
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::supported_cpuid() const
{
    for (size_t capacity = initial_cpuid_capacity; capacity <= maximum_cpuid_capacity; capacity *= 2) {
        // Header plus entries in uint64_t storage for alignment (see kvm_abi.hpp for why not kvm_cpuid2).
        size_t bytes = sizeof(kvm_abi::Cpuid2Header) + capacity * sizeof(kvm_cpuid_entry2);
        std::vector<uint64_t> storage((bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0);
        auto* header = reinterpret_cast<kvm_abi::Cpuid2Header*>(storage.data());
        header->entry_count = static_cast<uint32_t>(capacity);
        if (::ioctl(m_fd.get(), kvm_abi::get_supported_cpuid, header) == 0) {
            size_t count = header->entry_count <= capacity ? header->entry_count : capacity;
            auto const* entries = reinterpret_cast<kvm_cpuid_entry2 const*>(header + 1);
            return std::vector<kvm_cpuid_entry2>(entries, entries + count);
        }
        if (errno != E2BIG)
            return fail_errno("KVM_GET_SUPPORTED_CPUID");
    }
    return fail("KVM_GET_SUPPORTED_CPUID: more than " + std::to_string(maximum_cpuid_capacity) + " entries");
}

Result<std::vector<uint32_t>> Kvm::msr_index_list() const
{
    // First call with no room: KVM answers E2BIG and the count it needs.
    kvm_abi::MsrListHeader probe { 0 };
    if (::ioctl(m_fd.get(), kvm_abi::get_msr_index_list, &probe) == 0)
        return std::vector<uint32_t> {};
    if (errno != E2BIG)
        return fail_errno("KVM_GET_MSR_INDEX_LIST");
    std::vector<uint32_t> storage(1 + probe.entry_count, 0);
    storage[0] = probe.entry_count;
    if (::ioctl(m_fd.get(), kvm_abi::get_msr_index_list, storage.data()) < 0)
        return fail_errno("KVM_GET_MSR_INDEX_LIST");
    uint32_t count = std::min<uint32_t>(storage[0], probe.entry_count);
    return std::vector<uint32_t>(storage.begin() + 1, storage.begin() + 1 + count);
}

Result<size_t> Kvm::vcpu_mmap_size() const
{
    int size = ::ioctl(m_fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size < 0)
        return fail_errno("KVM_GET_VCPU_MMAP_SIZE");
    if (static_cast<size_t>(size) < sizeof(kvm_run))
        return fail("KVM_GET_VCPU_MMAP_SIZE returned " + std::to_string(size) + " bytes, smaller than struct kvm_run");
    return static_cast<size_t>(size);
}

} // namespace husk

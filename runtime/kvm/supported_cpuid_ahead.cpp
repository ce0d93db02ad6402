// SupportedCpuidAhead: the helper thread and the first-comer claim.
#include "runtime/kvm/supported_cpuid_ahead.hpp"

#include "runtime/base/setup_profile.hpp"

namespace husk {

SupportedCpuidAhead::SupportedCpuidAhead(Kvm kvm)
    : m_kvm(std::move(kvm))
{
    m_thread_started = ::pthread_create(&m_thread, nullptr, &SupportedCpuidAhead::thread_entry, this) == 0;
}

SupportedCpuidAhead::~SupportedCpuidAhead()
{
    if (m_thread_started)
        ::pthread_join(m_thread, nullptr);
}

void* SupportedCpuidAhead::thread_entry(void* self)
{
    auto* ahead = static_cast<SupportedCpuidAhead*>(self);
    if (!ahead->m_claimed.exchange(true)) {
        SetupPhase phase("supported cpuid (helper)");
        ahead->ask();
        ahead->m_answered_by_helper.store(true);
    }
    return nullptr;
}

void SupportedCpuidAhead::ask()
{
    auto answer = m_kvm.supported_cpuid();
    std::lock_guard lock(m_lock);
    m_answer.emplace(std::move(answer));
    m_answered.notify_all();
}

Result<std::vector<kvm_cpuid_entry2>> SupportedCpuidAhead::supported_cpuid()
{
    if (!m_claimed.exchange(true))
        ask();
    std::unique_lock lock(m_lock);
    m_answered.wait(lock, [&] { return m_answer.has_value(); });
    return *m_answer;
}

} // namespace husk

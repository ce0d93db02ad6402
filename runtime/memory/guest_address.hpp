// GuestAddress: a guest-physical address as its own type, so it never mixes with host pointers,
// sizes or offsets by accident. Arithmetic that can overflow returns std::optional.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

namespace husk {

class GuestAddress {
public:
    constexpr GuestAddress() = default;
    constexpr explicit GuestAddress(uint64_t value)
        : m_value(value)
    {
    }
    constexpr uint64_t value() const { return m_value; }
    constexpr auto operator<=>(GuestAddress const&) const = default;

    constexpr std::optional<GuestAddress> checked_add(uint64_t offset) const
    {
        if (offset > UINT64_MAX - m_value)
            return std::nullopt;
        return GuestAddress(m_value + offset);
    }
    // For constants known not to overflow (layout tables); guest-supplied values use checked_add.
    constexpr GuestAddress unchecked_add(uint64_t offset) const { return GuestAddress(m_value + offset); }

private:
    uint64_t m_value { 0 };
};

} // namespace husk

// Command-line parsing for the guest. The line comes from husk-vmm (trusted here: this guest is
// the attacker, not the victim), but malformed slots are skipped rather than trusted blindly.
#include "boot_info.hpp"

namespace guest {

namespace {
    // struct boot_params (Linux, arch/x86/include/uapi/asm/bootparam.h).
    constexpr uint64_t cmd_line_ptr_offset = 0x228;
    constexpr uint64_t ext_cmd_line_ptr_offset = 0x0c8;

    bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

    // Parses a number in C syntax (0x... hex or decimal); advances `text`.
    uint64_t parse_number(char const*& text)
    {
        uint64_t value = 0;
        if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
            text += 2;
            for (;; ++text) {
                char c = *text;
                if (c >= '0' && c <= '9')
                    value = value * 16 + static_cast<uint64_t>(c - '0');
                else if (c >= 'a' && c <= 'f')
                    value = value * 16 + static_cast<uint64_t>(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                    value = value * 16 + static_cast<uint64_t>(c - 'A' + 10);
                else
                    return value;
            }
        }
        for (; *text >= '0' && *text <= '9'; ++text)
            value = value * 10 + static_cast<uint64_t>(*text - '0');
        return value;
    }

    // SIZE@ADDR:IRQ with SIZE like 4K.
    bool parse_slot(char const* text, MmioSlot& slot)
    {
        uint64_t size = parse_number(text);
        if (*text == 'K' || *text == 'k') {
            size <<= 10;
            ++text;
        } else if (*text == 'M' || *text == 'm') {
            size <<= 20;
            ++text;
        }
        if (*text++ != '@')
            return false;
        uint64_t base = parse_number(text);
        if (*text++ != ':')
            return false;
        slot = { base, size, static_cast<uint32_t>(parse_number(text)) };
        return size != 0 && base != 0;
    }
} // namespace

bool equal(char const* a, char const* b)
{
    for (; *a && *a == *b; ++a, ++b) { }
    return *a == *b;
}

bool starts_with(char const* text, char const* prefix)
{
    for (; *prefix; ++text, ++prefix) {
        if (*text != *prefix)
            return false;
    }
    return true;
}

BootInfo read_boot_info(uint64_t boot_params)
{
    BootInfo info;
    auto low = *reinterpret_cast<uint32_t const volatile*>(boot_params + cmd_line_ptr_offset);
    auto high = *reinterpret_cast<uint32_t const volatile*>(boot_params + ext_cmd_line_ptr_offset);
    info.cmdline = reinterpret_cast<char const*>((uint64_t { high } << 32) | low);

    constexpr char const* slot_prefix = "virtio_mmio.device=";
    constexpr char const* case_prefix = "hostile.case=";
    char const* word = info.cmdline;
    while (*word) {
        while (is_space(*word))
            ++word;
        if (starts_with(word, slot_prefix) && info.slot_count < max_slots) {
            MmioSlot slot;
            if (parse_slot(word + 19, slot))
                info.slots[info.slot_count++] = slot;
        } else if (starts_with(word, case_prefix)) {
            char const* name = word + 13;
            size_t length = 0;
            while (name[length] && !is_space(name[length]) && length + 1 < max_case_name) {
                info.case_name[length] = name[length];
                ++length;
            }
            info.case_name[length] = '\0';
        }
        while (*word && !is_space(*word))
            ++word;
    }
    return info;
}

} // namespace guest

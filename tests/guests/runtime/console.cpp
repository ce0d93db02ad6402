// COM1 transmit only; husk's UART takes a byte at every write, so no line-status polling.
#include "console.hpp"

#include "io.hpp"

namespace guest {

namespace {
    constexpr uint16_t com1_data = 0x3f8;
    void put(char c) { outb(com1_data, static_cast<uint8_t>(c)); }
} // namespace

void print(char const* text)
{
    for (; *text; ++text)
        put(*text);
}

void println(char const* text)
{
    print(text);
    put('\n');
}

void print_hex(uint64_t value)
{
    print("0x");
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
        unsigned digit = (value >> shift) & 0xf;
        if (digit == 0 && !started && shift != 0)
            continue;
        started = true;
        put(static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10));
    }
}

void print_decimal(uint64_t value)
{
    char digits[21];
    int count = 0;
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        put(digits[--count]);
}

} // namespace guest

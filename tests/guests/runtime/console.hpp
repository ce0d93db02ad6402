// Console output of the hostile-driver guest: polled writes to COM1 (husk-vmm's serial port,
// shown with --serial). Enough to say which case ran and why it failed.
#pragma once

#include <cstdint>

namespace guest {

void print(char const* text);
void print_hex(uint64_t value);
void print_decimal(uint64_t value);
// print(text) followed by a newline.
void println(char const* text);

} // namespace guest

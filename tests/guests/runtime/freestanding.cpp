// What the compiler may call even in a freestanding program.
#include <cstddef>
#include <cstdint>

extern "C" {

void* memcpy(void* destination, void const* source, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    auto const* from = static_cast<uint8_t const*>(source);
    for (size_t i = 0; i < count; ++i)
        to[i] = from[i];
    return destination;
}

void* memset(void* destination, int value, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    for (size_t i = 0; i < count; ++i)
        to[i] = static_cast<uint8_t>(value);
    return destination;
}

void* memmove(void* destination, void const* source, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    auto const* from = static_cast<uint8_t const*>(source);
    if (to < from) {
        for (size_t i = 0; i < count; ++i)
            to[i] = from[i];
    } else {
        for (size_t i = count; i > 0; --i)
            to[i - 1] = from[i - 1];
    }
    return destination;
}

int memcmp(void const* left, void const* right, size_t count)
{
    auto const* a = static_cast<uint8_t const*>(left);
    auto const* b = static_cast<uint8_t const*>(right);
    for (size_t i = 0; i < count; ++i) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

// std::string_view of a C string (the 9P driver's names).
size_t strlen(char const* text)
{
    size_t length = 0;
    while (text[length] != 0)
        ++length;
    return length;
}
}

// Result<T>: the error-or-value type used across runtime/, virtio/, guest-init/ and sdk/. The
// types themselves (Result, Error, ErrorKind, unexpected) are libhusk's public ones, defined in
// sdk/include/husk/result.hpp so the SDK's installed headers need nothing from here; this header
// adds what only husk's own code uses: fail()/fail_errno() and the short TRY/TRY_CONTEXT macros,
// which must not leak into applications' code through the public headers.
#pragma once

#include "sdk/include/husk/result.hpp"

#include <string>

namespace husk {

inline Unexpected<Error> fail(std::string message) { return unexpected(Error { std::move(message), 0 }); }
inline Unexpected<Error> fail(ErrorKind kind, std::string message)
{
    return unexpected(Error { std::move(message), 0, kind });
}
inline Unexpected<Error> fail_errno(std::string what, int err = errno)
{
    return unexpected(Error::from_errno(std::move(what), err));
}

} // namespace husk

// Evaluates a Result expression; on error returns it from the enclosing function, otherwise
// yields the value (nothing for Result<void>).
#define TRY(expr) HUSK_TRY(expr)

// Adds context in front of an error message while propagating it.
#define TRY_CONTEXT(expr, context)                                                                                     \
    ({                                                                                                                 \
        auto&& husk_try_result_ = (expr);                                                                              \
        if (!husk_try_result_.has_value()) {                                                                           \
            auto husk_try_error_ = std::move(husk_try_result_).error();                                                \
            husk_try_error_.message = std::string(context) + ": " + husk_try_error_.message;                           \
            return ::husk::unexpected(std::move(husk_try_error_));                                                     \
        }                                                                                                              \
        std::move(husk_try_result_).value();                                                                           \
    })

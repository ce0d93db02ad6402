// Result<T>: the error-or-value type used across runtime/, virtio/ and guest-init/.
// Member names follow std::expected so a later switch to it is one alias; TRY propagates errors
// without exceptions (GNU statement expression, supported by g++ and clang).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace husk {

// What kind of failure an Error is, for callers that react differently to each (the SDK's
// users: retry when the guest was not ready, recreate the sandbox when its VM died). Runtime code
// leaves Other; the SDK sets the rest (sdk/include/husk/error.hpp names them).
enum class ErrorKind : uint8_t {
    Other = 0,
    BadConfig, // invalid options, missing assets: fix the call, retrying will not help
    VmmStartFailed, // husk-vmm could not be started or exited before the guest was up
    GuestNotReady, // the agent did not answer before the boot deadline
    AgentDisconnected, // the agent connection closed or broke the protocol
    VmDied, // the VMM exited (guest panic, killed, out of memory) while in use
    Timeout, // a host-side deadline passed
    Guest, // the agent refused the request (file not found, bad argument, ...)
};

struct Error {
    std::string message;
    int errno_value { 0 }; // 0 when the error did not come from a system call
    ErrorKind kind { ErrorKind::Other };

    static Error from_errno(std::string what, int err = errno)
    {
        return Error { what + ": " + std::strerror(err), err };
    }
};

template<typename E>
class Unexpected {
public:
    explicit Unexpected(E error)
        : m_error(std::move(error))
    {
    }
    E& error() & { return m_error; }
    E&& error() && { return std::move(m_error); }

private:
    E m_error;
};

inline Unexpected<Error> unexpected(Error error) { return Unexpected<Error>(std::move(error)); }
inline Unexpected<Error> fail(std::string message) { return unexpected(Error { std::move(message), 0 }); }
inline Unexpected<Error> fail(ErrorKind kind, std::string message)
{
    return unexpected(Error { std::move(message), 0, kind });
}
inline Unexpected<Error> fail_errno(std::string what, int err = errno)
{
    return unexpected(Error::from_errno(std::move(what), err));
}

template<typename T>
class [[nodiscard]] Result {
public:
    using value_type = T;
    Result(T value)
        : m_storage(std::in_place_index<0>, std::move(value))
    {
    }
    Result(Unexpected<Error> error)
        : m_storage(std::in_place_index<1>, std::move(error).error())
    {
    }

    bool has_value() const { return m_storage.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(m_storage); }
    T const& value() const& { return std::get<0>(m_storage); }
    T&& value() && { return std::get<0>(std::move(m_storage)); }
    T& operator*() & { return value(); }
    T const& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    T const* operator->() const { return &value(); }
    Error& error() & { return std::get<1>(m_storage); }
    Error const& error() const& { return std::get<1>(m_storage); }
    Error&& error() && { return std::get<1>(std::move(m_storage)); }
    template<typename U>
    T value_or(U&& fallback) const& { return has_value() ? value() : T(std::forward<U>(fallback)); }

private:
    std::variant<T, Error> m_storage;
};

template<>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Unexpected<Error> error)
        : m_error(std::move(error).error())
        , m_failed(true)
    {
    }

    bool has_value() const { return !m_failed; }
    explicit operator bool() const { return has_value(); }
    void value() const { }
    Error& error() & { return m_error; }
    Error const& error() const& { return m_error; }
    Error&& error() && { return std::move(m_error); }

private:
    Error m_error;
    bool m_failed { false };
};

} // namespace husk

// Evaluates a Result expression; on error returns it from the enclosing function, otherwise
// yields the value (nothing for Result<void>).
#define TRY(expr)                                                           \
    ({                                                                      \
        auto&& husk_try_result_ = (expr);                                   \
        if (!husk_try_result_.has_value())                                  \
            return ::husk::unexpected(std::move(husk_try_result_).error()); \
        std::move(husk_try_result_).value();                                \
    })

// Adds context in front of an error message while propagating it.
#define TRY_CONTEXT(expr, context)                                                               \
    ({                                                                                           \
        auto&& husk_try_result_ = (expr);                                                        \
        if (!husk_try_result_.has_value()) {                                                     \
            auto husk_try_error_ = std::move(husk_try_result_).error();                          \
            husk_try_error_.message = std::string(context) + ": " + husk_try_error_.message;     \
            return ::husk::unexpected(std::move(husk_try_error_));                               \
        }                                                                                        \
        std::move(husk_try_result_).value();                                                     \
    })

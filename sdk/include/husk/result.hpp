// husk::Result<T>: a value or a husk::Error, the return type of every fallible libhusk call. Its
// members are named like std::expected's (has_value, value, error, operator*, operator->,
// operator bool; husk::unexpected builds a failed one) so code reads the same and a later switch
// to std::expected is an alias. No exceptions: libhusk and husk-vmm are built without them.
//
// This header stands alone (only the standard library), so applications get no husk internals.
// husk's own code (runtime/base/result.hpp) uses the same types and adds its private helpers.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace husk {

/// What kind of failure an Error is, for callers that react differently to each (retry when the
/// guest was not ready, recreate the sandbox when its VM died); husk/error.hpp describes each.
enum class ErrorKind : uint8_t {
    Other = 0,
    BadConfig,
    VmmStartFailed,
    GuestNotReady,
    AgentDisconnected,
    VmDied,
    Timeout,
    Guest,
};

struct Error {
    std::string message; ///< one line for humans
    int errno_value { 0 }; ///< 0 when the error did not come from a system call
    ErrorKind kind { ErrorKind::Other };

    /// "what: strerror(err)", keeping err.
    static Error from_errno(std::string what, int err = errno)
    {
        return Error { what + ": " + std::strerror(err), err };
    }
};

/// A failure on its way into a Result (std::unexpected's role).
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
    /// Only when has_value(): like std::expected without exceptions, anything else is a bug
    /// (std::get then terminates the program).
    T& value() & { return std::get<0>(m_storage); }
    T const& value() const& { return std::get<0>(m_storage); }
    T&& value() && { return std::get<0>(std::move(m_storage)); }
    T& operator*() & { return value(); }
    T const& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    T const* operator->() const { return &value(); }
    /// Only when !has_value().
    Error& error() & { return std::get<1>(m_storage); }
    Error const& error() const& { return std::get<1>(m_storage); }
    Error&& error() && { return std::get<1>(std::move(m_storage)); }
    template<typename U>
    T value_or(U&& fallback) const&
    {
        return has_value() ? value() : T(std::forward<U>(fallback));
    }

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

/// For functions that themselves return a husk::Result: evaluates a Result expression; on error
/// returns the error from the enclosing function, otherwise yields the value (nothing for
/// Result<void>). A GNU statement expression: g++ and clang accept it (-Wpedantic warns).
#define HUSK_TRY(expr)                                                                                                 \
    ({                                                                                                                 \
        auto&& husk_try_result_ = (expr);                                                                              \
        if (!husk_try_result_.has_value())                                                                             \
            return ::husk::unexpected(std::move(husk_try_result_).error());                                            \
        std::move(husk_try_result_).value();                                                                           \
    })

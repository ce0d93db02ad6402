// Field checks shared by the message codecs; each error names the field it rejects.
#include "guest-init/protocol/codec_fields.hpp"

#include <cstdio>

namespace husk::protocol::detail {

std::string indexed(std::string_view field, size_t index)
{
    return std::string(field) + "[" + std::to_string(index) + "]";
}

Result<void> check_string(std::string_view field, std::string const& text, size_t max_size, NulBytes nul_bytes)
{
    if (text.size() > max_size)
        return fail(std::string(field) + ": length " + std::to_string(text.size()) + " exceeds the limit of "
            + std::to_string(max_size));
    if (nul_bytes == NulBytes::Rejected && text.find('\0') != std::string::npos)
        return fail(std::string(field) + ": contains a NUL byte");
    return {};
}

Result<void> check_path(std::string_view field, std::string const& path)
{
    TRY(check_string(field, path, max_path_size, NulBytes::Rejected));
    // Relative paths would resolve against whatever the agent's cwd is: require the host to say.
    if (path.empty() || path.front() != '/')
        return fail(std::string(field) + ": must be an absolute path");
    return {};
}

Result<void> check_data(std::string_view field, std::vector<uint8_t> const& data)
{
    if (data.size() > max_chunk_size)
        return fail(std::string(field) + ": " + std::to_string(data.size()) + " bytes exceeds the chunk limit of "
            + std::to_string(max_chunk_size));
    return {};
}

Result<void> check_mode(std::string_view field, uint32_t mode)
{
    if (mode > max_file_mode) {
        char octal[16];
        std::snprintf(octal, sizeof(octal), "%o", mode);
        return fail(std::string(field) + ": mode " + octal + " has bits outside 7777");
    }
    return {};
}

Result<void> check_signal(std::string_view field, uint32_t signo)
{
    if (signo < 1 || signo > max_signal_number)
        return fail(std::string(field) + ": signal " + std::to_string(signo) + " is outside 1.."
            + std::to_string(max_signal_number));
    return {};
}

} // namespace husk::protocol::detail

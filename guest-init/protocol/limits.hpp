// Hard limits of the husk job protocol. Both ends enforce them on decode, so a hostile peer can
// neither make the other side allocate without bound nor smuggle oversized fields through; the
// host side is the security boundary because a compromised guest can forge any agent reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace husk::protocol {

inline constexpr uint16_t protocol_version = 1;

// Largest payload of one frame. Checked from the header alone, before any payload is buffered.
inline constexpr uint32_t max_payload_size = 1024 * 1024;

// Largest string field (argv/env entries, messages). Paths are tighter: Linux rejects longer
// ones with ENAMETOOLONG anyway (PATH_MAX counts the terminating NUL).
inline constexpr uint32_t max_string_size = 64 * 1024;
inline constexpr uint32_t max_path_size = 4095;

// Largest raw data field (stdin, output, file chunks) and largest FileRead request. Half the
// payload limit so any chunk fits in one frame next to a maximal path and the fixed fields.
inline constexpr uint32_t max_chunk_size = 512 * 1024;

inline constexpr uint32_t max_argv_count = 4096;
inline constexpr uint32_t max_env_count = 4096;
inline constexpr uint32_t max_rlimit_count = 16; // one per Linux RLIMIT_* resource
// Refresh: entropy the host sends a restored guest (the kernel takes at most 512 bytes per
// RNDADDENTROPY call, 64 are plenty), and Linux's hostname limit (HOST_NAME_MAX).
inline constexpr uint32_t max_refresh_entropy_size = 512;
inline constexpr uint32_t max_hostname_size = 64;
// Refresh::network: three husk.* words with at most five addresses fit in well under this.
inline constexpr uint32_t max_refresh_network_size = 256;

// Every field is length-prefixed and decoding consumes the payload exactly, so a decoded message
// holds at most max_payload_size bytes of field data plus one std::string object per argv/env
// entry: this bounds what one frame can make the receiver allocate.
inline constexpr size_t max_decoded_message_size
    = max_payload_size + (max_argv_count + max_env_count) * sizeof(std::string);

} // namespace husk::protocol

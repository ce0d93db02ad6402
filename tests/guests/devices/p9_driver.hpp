// virtio-9p from the guest side (virtio 1.2 §5.11): one request queue; each chain is a 9P
// request (device-readable) followed by room for the reply (device-writable). Messages are built
// with husk's own ReplyWriter (it writes any 9P message: header, fields, size patched at the end)
// and read with its WireReader. The lab suite shares a directory holding p9_probe_file with
// p9_probe_contents; the probe starts a session, attaches, walks to it, opens and reads it.
#pragma once

#include "runtime/hostile.hpp"
#include "virtio/p9/p9_reply.hpp"
#include "virtio/p9/p9_spec.hpp"

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace guest {

namespace p9 = husk::p9;

inline constexpr uint32_t p9_msize = 8192;
// tests/lab/hostile_host_side.cpp writes it at the top of the share; beside the share, in the
// case's directory, is "outside/" (the host checks it never changes).
inline constexpr char p9_probe_file[] = "probe.txt";
inline constexpr char p9_probe_contents[] = "HUSK-HOSTILE-SHARE\n";
// Symlinks in the share pointing out of it (the host made them): "../outside/canary",
// "../outside/dir" (holding deep.txt) and "/".
inline constexpr char p9_outward_link[] = "link-out";
inline constexpr char p9_outward_directory_link[] = "link-out-dir";
inline constexpr char p9_root_link[] = "link-root";
inline constexpr char p9_subdirectory[] = "sub";
// Rlerror's type and "no answer" for the helpers that return an errno.
inline constexpr int p9_no_answer = -1;
inline constexpr uint32_t p9_root_fid = 1;

// A request under construction in a scratch buffer of `capacity` bytes.
class P9Message {
public:
    explicit P9Message(uint8_t type, uint16_t tag = 1, uint32_t capacity = p9_msize);
    p9::WireWriter& writer() { return m_writer.writer(); }
    // Patches the size field; the message's length.
    uint32_t finish();
    uint64_t address() const { return m_buffer; }

private:
    uint64_t m_buffer;
    p9::ReplyWriter m_writer;
};

struct P9Reply {
    uint32_t length { 0 }; // the used length the device reported
    uint8_t type { 0 };
    uint16_t tag { 0 };
    uint32_t error { 0 }; // for Rlerror
    uint8_t const* bytes { nullptr }; // the whole reply
};

// One chain: `request_length` readable bytes at `request`, then `reply_capacity` writable bytes
// (no writable descriptor when 0); waits for it. False on no answer / NEEDS_RESET.
bool p9_exchange(Session& session, uint64_t request, uint32_t request_length, P9Reply& reply,
    uint32_t reply_capacity = p9_msize, uint16_t slot = probe_slot);
bool p9_call(Session& session, P9Message& message, P9Reply& reply, uint32_t reply_capacity = p9_msize);
// 0 when the reply is the R-message of `type`, the Rlerror errno, or p9_no_answer.
int p9_outcome(P9Reply const& reply, uint8_t type, bool answered);

// Any request: `fill(writer)` writes the fields after the header. 0, an errno or p9_no_answer.
template<typename Fill>
int p9_request(Session& session, uint8_t type, Fill fill, uint32_t reply_capacity = p9_msize,
    uint32_t capacity = p9_msize, P9Reply* reply_out = nullptr)
{
    P9Message message(type, 1, capacity);
    fill(message.writer());
    P9Reply reply;
    bool answered = p9_call(session, message, reply, reply_capacity);
    if (reply_out)
        *reply_out = reply;
    return p9_outcome(reply, type, answered);
}

// The usual requests: 0, an errno or p9_no_answer.
int p9_version(
    Session& session, uint32_t msize = p9_msize, char const* version = p9::protocol_version, uint16_t tag = p9::no_tag);
int p9_attach(Session& session, uint32_t fid);
// Tattach's fields for `fid`: no authentication, the share's root.
void p9_write_attach(p9::WireWriter& writer, uint32_t fid);
// A fresh session with the root at p9_root_fid.
bool p9_start(Session& session);
// `names` from `fid` into `newfid`; the number of qids returned in `walked`.
int p9_walk(Session& session, uint32_t fid, uint32_t newfid, std::initializer_list<std::string_view> names,
    uint16_t* walked = nullptr);
int p9_lopen(Session& session, uint32_t fid, uint32_t flags);
int p9_clunk(Session& session, uint32_t fid);
// Reads up to `count` bytes at `offset` into `out` (p9_msize at most); `got` the byte count.
int p9_read(Session& session, uint32_t fid, uint64_t offset, uint32_t count, uint8_t* out, uint32_t* got);
// Whether `fid` can be walked to the probe file and read back the probe contents.
bool p9_probe_read(Session& session, uint32_t root_fid);

} // namespace guest

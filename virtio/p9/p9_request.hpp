// parse_p9_request: the strict 9P2000.L request parser. One message in, a typed request out, or
// the reason it is refused. It checks the size field against the bytes received, reads every
// field of the message type in bounds, refuses trailing bytes, strings with NUL bytes, more than
// max_walk_names names and unknown types. Pure: no I/O, so it is unit-tested and fuzzed alone.
// Names are NOT validated as path components here: that is the file server's job (walk allows
// "..", creates do not).
#pragma once

#include "virtio/p9/p9_spec.hpp"
#include "virtio/p9/p9_wire.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace husk::p9 {

struct Tversion {
    uint32_t msize;
    std::string_view version;
};
struct Tauth {
    uint32_t afid;
    std::string_view uname, aname;
    uint32_t n_uname;
};
struct Tattach {
    uint32_t fid, afid;
    std::string_view uname, aname;
    uint32_t n_uname;
};
struct Tflush {
    uint16_t oldtag;
};
struct Twalk {
    uint32_t fid, newfid;
    std::vector<std::string_view> names;
};
struct Tread {
    uint32_t fid;
    uint64_t offset;
    uint32_t count;
};
struct Twrite {
    uint32_t fid;
    uint64_t offset;
    std::span<uint8_t const> data;
    // Zero-copy: the data stayed in guest memory and reaches the server beside the request
    // (P9Handler::handle_write); `data` is then empty and this is its length.
    uint32_t external_count { 0 };
};
struct Tclunk {
    uint32_t fid;
};
struct Tremove {
    uint32_t fid;
};
struct Tstatfs {
    uint32_t fid;
};
struct Tlopen {
    uint32_t fid, flags;
};
struct Tlcreate {
    uint32_t fid;
    std::string_view name;
    uint32_t flags, mode, gid;
};
struct Tsymlink {
    uint32_t fid;
    std::string_view name, target;
    uint32_t gid;
};
struct Tmknod {
    uint32_t dfid;
    std::string_view name;
    uint32_t mode, major, minor, gid;
};
struct Trename {
    uint32_t fid, dfid;
    std::string_view name;
};
struct Treadlink {
    uint32_t fid;
};
struct Tgetattr {
    uint32_t fid;
    uint64_t request_mask;
};
struct Tsetattr {
    uint32_t fid, valid, mode, uid, gid;
    uint64_t size, atime_sec, atime_nsec, mtime_sec, mtime_nsec;
};
struct Txattrwalk {
    uint32_t fid, newfid;
    std::string_view name;
};
struct Txattrcreate {
    uint32_t fid;
    std::string_view name;
    uint64_t size;
    uint32_t flags;
};
struct Treaddir {
    uint32_t fid;
    uint64_t offset;
    uint32_t count;
};
struct Tfsync {
    uint32_t fid, datasync;
};
struct Tlock {
    uint32_t fid;
    uint8_t type;
    uint32_t flags;
    uint64_t start, length;
    uint32_t proc_id;
    std::string_view client_id;
};
struct Tgetlock {
    uint32_t fid;
    uint8_t type;
    uint64_t start, length;
    uint32_t proc_id;
    std::string_view client_id;
};
struct Tlink {
    uint32_t dfid, fid;
    std::string_view name;
};
struct Tmkdir {
    uint32_t dfid;
    std::string_view name;
    uint32_t mode, gid;
};
struct Trenameat {
    uint32_t olddirfid;
    std::string_view oldname;
    uint32_t newdirfid;
    std::string_view newname;
};
struct Tunlinkat {
    uint32_t dirfid;
    std::string_view name;
    uint32_t flags;
};

using RequestBody = std::variant<Tversion, Tauth, Tattach, Tflush, Twalk, Tread, Twrite, Tclunk, Tremove, Tstatfs,
    Tlopen, Tlcreate, Tsymlink, Tmknod, Trename, Treadlink, Tgetattr, Tsetattr, Txattrwalk, Txattrcreate, Treaddir,
    Tfsync, Tlock, Tgetlock, Tlink, Tmkdir, Trenameat, Tunlinkat>;

struct Request {
    uint8_t type { 0 };
    uint16_t tag { no_tag };
    RequestBody body;
};

// The outcome: `request`, or a refusal. A refusal with a tag is answered with Rlerror(`error`);
// one without (fewer than 7 bytes, or a size field that disagrees with what arrived) cannot be.
struct ParsedRequest {
    std::optional<Request> request;
    std::optional<uint16_t> tag;
    int error { 0 }; // errno for Rlerror: EPROTO (malformed), EOPNOTSUPP (unknown type), EINVAL
    std::string_view problem; // for logs and tests
};

// `bytes` is everything the driver sent; the size field must not exceed it. Views in the result
// point into `bytes`.
ParsedRequest parse_p9_request(std::span<uint8_t const> bytes);

// A Twrite (its fixed part, twrite_header_size bytes) whose `external` data bytes the device left in guest memory: `header` is exactly the
// fixed part, its size field must count header and data, and its count must be `external`.
ParsedRequest parse_p9_write_header(std::span<uint8_t const> header, uint64_t external);

} // namespace husk::p9

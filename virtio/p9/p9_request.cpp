// parse_p9_request: header, then the fields of each request type, then the strictness checks.
#include "virtio/p9/p9_request.hpp"

#include <cerrno>

namespace husk::p9 {

namespace {
    // Reads the body of a request of type `type`; nullopt for a type this server does not know.
    std::optional<RequestBody> read_body(uint8_t type, WireReader& in)
    {
        using namespace message;
        switch (type) {
        case tversion:
            return Tversion { in.u32(), in.string() };
        case tauth: {
            Tauth body {};
            body.afid = in.u32();
            body.uname = in.string();
            body.aname = in.string();
            body.n_uname = in.u32();
            return body;
        }
        case tattach: {
            Tattach body {};
            body.fid = in.u32();
            body.afid = in.u32();
            body.uname = in.string();
            body.aname = in.string();
            body.n_uname = in.u32();
            return body;
        }
        case tflush:
            return Tflush { in.u16() };
        case twalk: {
            Twalk body {};
            body.fid = in.u32();
            body.newfid = in.u32();
            uint16_t count = in.u16();
            if (count > max_walk_names)
                return std::nullopt;
            for (uint16_t i = 0; i < count && !in.failed(); ++i)
                body.names.push_back(in.string());
            return body;
        }
        case tread: {
            Tread body {};
            body.fid = in.u32();
            body.offset = in.u64();
            body.count = in.u32();
            return body;
        }
        case twrite: {
            Twrite body {};
            body.fid = in.u32();
            body.offset = in.u64();
            body.data = in.bytes(in.u32());
            return body;
        }
        case tclunk:
            return Tclunk { in.u32() };
        case tremove:
            return Tremove { in.u32() };
        case tstatfs:
            return Tstatfs { in.u32() };
        case tlopen: {
            Tlopen body {};
            body.fid = in.u32();
            body.flags = in.u32();
            return body;
        }
        case tlcreate: {
            Tlcreate body {};
            body.fid = in.u32();
            body.name = in.string();
            body.flags = in.u32();
            body.mode = in.u32();
            body.gid = in.u32();
            return body;
        }
        case tsymlink: {
            Tsymlink body {};
            body.fid = in.u32();
            body.name = in.string();
            body.target = in.string();
            body.gid = in.u32();
            return body;
        }
        case tmknod: {
            Tmknod body {};
            body.dfid = in.u32();
            body.name = in.string();
            body.mode = in.u32();
            body.major = in.u32();
            body.minor = in.u32();
            body.gid = in.u32();
            return body;
        }
        case trename: {
            Trename body {};
            body.fid = in.u32();
            body.dfid = in.u32();
            body.name = in.string();
            return body;
        }
        case treadlink:
            return Treadlink { in.u32() };
        case tgetattr: {
            Tgetattr body {};
            body.fid = in.u32();
            body.request_mask = in.u64();
            return body;
        }
        case tsetattr: {
            Tsetattr body {};
            body.fid = in.u32();
            body.valid = in.u32();
            body.mode = in.u32();
            body.uid = in.u32();
            body.gid = in.u32();
            body.size = in.u64();
            body.atime_sec = in.u64();
            body.atime_nsec = in.u64();
            body.mtime_sec = in.u64();
            body.mtime_nsec = in.u64();
            return body;
        }
        case txattrwalk: {
            Txattrwalk body {};
            body.fid = in.u32();
            body.newfid = in.u32();
            body.name = in.string();
            return body;
        }
        case txattrcreate: {
            Txattrcreate body {};
            body.fid = in.u32();
            body.name = in.string();
            body.size = in.u64();
            body.flags = in.u32();
            return body;
        }
        case treaddir: {
            Treaddir body {};
            body.fid = in.u32();
            body.offset = in.u64();
            body.count = in.u32();
            return body;
        }
        case tfsync: {
            Tfsync body {};
            body.fid = in.u32();
            body.datasync = in.u32();
            return body;
        }
        case tlock: {
            Tlock body {};
            body.fid = in.u32();
            body.type = in.u8();
            body.flags = in.u32();
            body.start = in.u64();
            body.length = in.u64();
            body.proc_id = in.u32();
            body.client_id = in.string();
            return body;
        }
        case tgetlock: {
            Tgetlock body {};
            body.fid = in.u32();
            body.type = in.u8();
            body.start = in.u64();
            body.length = in.u64();
            body.proc_id = in.u32();
            body.client_id = in.string();
            return body;
        }
        case tlink: {
            Tlink body {};
            body.dfid = in.u32();
            body.fid = in.u32();
            body.name = in.string();
            return body;
        }
        case tmkdir: {
            Tmkdir body {};
            body.dfid = in.u32();
            body.name = in.string();
            body.mode = in.u32();
            body.gid = in.u32();
            return body;
        }
        case trenameat: {
            Trenameat body {};
            body.olddirfid = in.u32();
            body.oldname = in.string();
            body.newdirfid = in.u32();
            body.newname = in.string();
            return body;
        }
        case tunlinkat: {
            Tunlinkat body {};
            body.dirfid = in.u32();
            body.name = in.string();
            body.flags = in.u32();
            return body;
        }
        default:
            return std::nullopt;
        }
    }

    bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

    // Every string field of the body, for the NUL check.
    bool strings_clean(RequestBody const& body)
    {
        return std::visit(
            [](auto const& request) {
                using T = std::decay_t<decltype(request)>;
                if constexpr (std::is_same_v<T, Twalk>) {
                    for (auto name : request.names)
                        if (has_nul(name))
                            return false;
                    return true;
                } else if constexpr (std::is_same_v<T, Tauth> || std::is_same_v<T, Tattach>) {
                    return !has_nul(request.uname) && !has_nul(request.aname);
                } else if constexpr (std::is_same_v<T, Tsymlink>) {
                    return !has_nul(request.name) && !has_nul(request.target);
                } else if constexpr (std::is_same_v<T, Trenameat>) {
                    return !has_nul(request.oldname) && !has_nul(request.newname);
                } else if constexpr (std::is_same_v<T, Tversion>) {
                    return !has_nul(request.version);
                } else if constexpr (requires { request.name; }) {
                    return !has_nul(request.name);
                } else {
                    return true;
                }
            },
            body);
    }
} // namespace

ParsedRequest parse_p9_request(std::span<uint8_t const> bytes)
{
    ParsedRequest parsed;
    WireReader header(bytes);
    uint32_t size = header.u32();
    uint8_t type = header.u8();
    uint16_t tag = header.u16();
    if (header.failed()) {
        parsed.problem = "shorter than a 9P header";
        return parsed;
    }
    if (size < header_size || size > bytes.size()) {
        parsed.problem = "size field disagrees with the bytes received";
        return parsed;
    }
    parsed.tag = tag;
    WireReader in(bytes.subspan(header_size, size - header_size));
    auto body = read_body(type, in);
    if (!body) {
        parsed.error = type == message::twalk ? EINVAL : EOPNOTSUPP;
        parsed.problem = type == message::twalk ? "more than 16 walk names" : "unknown message type";
        return parsed;
    }
    if (in.failed()) {
        parsed.error = EPROTO;
        parsed.problem = "a field runs past the end of the message";
        return parsed;
    }
    if (in.remaining() != 0) {
        parsed.error = EPROTO;
        parsed.problem = "trailing bytes after the last field";
        return parsed;
    }
    if (!strings_clean(*body)) {
        parsed.error = EINVAL;
        parsed.problem = "a string holds a NUL byte";
        return parsed;
    }
    parsed.request = Request { type, tag, std::move(*body) };
    return parsed;
}

ParsedRequest parse_p9_write_header(std::span<uint8_t const> header, uint64_t external)
{
    ParsedRequest parsed;
    WireReader in(header);
    uint32_t size = in.u32();
    uint8_t type = in.u8();
    uint16_t tag = in.u16();
    Twrite body {};
    body.fid = in.u32();
    body.offset = in.u64();
    uint32_t count = in.u32();
    if (in.failed() || in.remaining() != 0) {
        parsed.problem = "not a Twrite header";
        return parsed;
    }
    parsed.tag = tag;
    parsed.error = EPROTO;
    if (type != message::twrite) {
        parsed.problem = "only a Twrite carries its data beside the message";
        return parsed;
    }
    if (external == 0 || count != external || size != header.size() + external) {
        parsed.problem = "size or count field disagrees with the bytes received";
        return parsed;
    }
    parsed.error = 0;
    body.external_count = count;
    parsed.request = Request { type, tag, body };
    return parsed;
}

} // namespace husk::p9

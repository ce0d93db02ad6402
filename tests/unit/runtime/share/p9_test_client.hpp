// P9TestClient: a 9P2000.L client for tests that drives a P9Handler in process with crafted
// messages, the way Linux's v9fs would (or a hostile guest might), and decodes the replies.
// Fid 0 is the share root after attach().
#pragma once

#include "virtio/p9/p9_handler.hpp"
#include "virtio/p9/p9_spec.hpp"
#include "virtio/p9/p9_wire.hpp"

#include <cstdint>
#include <algorithm>
#include <functional>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::testing {

struct P9Reply {
    uint8_t type { 0 };
    uint16_t tag { 0 };
    std::vector<uint8_t> body; // after the 7-byte header
    // Rlerror's errno, or 0 for any other reply.
    int error() const
    {
        if (type != p9::message::rlerror || body.size() < 4)
            return 0;
        return static_cast<int>(body[0] | body[1] << 8 | body[2] << 16 | static_cast<uint32_t>(body[3]) << 24);
    }
    bool ok(uint8_t request_type) const { return type == p9::message::reply_to(request_type); }
    p9::WireReader reader() const { return p9::WireReader(body); }
};

class P9TestClient {
public:
    using Fields = std::function<void(p9::WireWriter&)>;

    explicit P9TestClient(P9Handler& handler)
        : m_handler(handler)
    {
    }

    static std::vector<uint8_t> message(uint8_t type, uint16_t tag, Fields const& fields)
    {
        std::vector<uint8_t> bytes(1 << 16);
        p9::WireWriter w(bytes);
        w.u32(0);
        w.u8(type);
        w.u16(tag);
        fields(w);
        w.patch_u32(0, static_cast<uint32_t>(w.size()));
        bytes.resize(w.size());
        return bytes;
    }

    P9Reply send_bytes(std::vector<uint8_t> const& bytes, size_t reply_room = 1 << 20)
    {
        std::vector<uint8_t> reply(reply_room);
        return decode(reply, m_handler.handle(bytes, reply));
    }

    P9Reply send(uint8_t type, Fields const& fields) { return send_bytes(message(type, ++m_tag, fields)); }

    // A zero-copy Twrite (P9Handler::handle_write), as the device hands over Linux's layout: the
    // 23-byte header alone and the data in buffers of `piece` bytes (the last one shorter).
    // `count` and `size` stand in for the header's fields when a test wants them to disagree
    // with the data.
    P9Reply write_in_place(uint32_t fid, uint64_t offset, std::string_view data, size_t piece = 4096,
        std::optional<uint32_t> count = {}, std::optional<uint32_t> size = {})
    {
        auto header = message(p9::message::twrite, ++m_tag, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(count.value_or(static_cast<uint32_t>(data.size())));
        });
        p9::WireWriter(header).u32(size.value_or(static_cast<uint32_t>(header.size() + data.size())));
        std::string guest_buffers(data);
        std::vector<iovec> buffers;
        for (size_t at = 0; at < guest_buffers.size(); at += piece)
            buffers.push_back({ guest_buffers.data() + at, std::min(piece, guest_buffers.size() - at) });
        std::vector<uint8_t> reply(1 << 16);
        return decode(reply, m_handler.handle_write(header, buffers, data.size(), reply));
    }

    // Tversion + Tattach of fid 0 (the root).
    void attach(uint32_t msize = 1 << 20)
    {
        auto version = send_bytes(message(p9::message::tversion, p9::no_tag, [&](auto& w) {
            w.u32(msize);
            w.string(p9::protocol_version);
        }));
        ASSERT_TRUE(version.ok(p9::message::tversion)) << version.error();
        auto attached = send(p9::message::tattach, [](auto& w) {
            w.u32(0);
            w.u32(p9::no_fid);
            w.string("root");
            w.string("");
            w.u32(0);
        });
        ASSERT_TRUE(attached.ok(p9::message::tattach)) << attached.error();
    }

    // Another Tattach, as Linux sends one per guest user: `fid` becomes the root seen by `uid`.
    P9Reply attach_as(uint32_t fid, uint32_t uid)
    {
        return send(p9::message::tattach, [&](auto& w) {
            w.u32(fid);
            w.u32(p9::no_fid);
            w.string("");
            w.string("");
            w.u32(uid);
        });
    }

    P9Reply walk(uint32_t fid, uint32_t newfid, std::vector<std::string_view> const& names)
    {
        return send(p9::message::twalk, [&](auto& w) {
            w.u32(fid);
            w.u32(newfid);
            w.u16(static_cast<uint16_t>(names.size()));
            for (auto name : names)
                w.string(name);
        });
    }
    // Qids a successful Rwalk carries.
    static uint16_t walked(P9Reply const& reply)
    {
        auto r = reply.reader();
        return reply.ok(p9::message::twalk) ? r.u16() : 0;
    }
    P9Reply lopen(uint32_t fid, uint32_t flags)
    {
        return send(p9::message::tlopen, [&](auto& w) {
            w.u32(fid);
            w.u32(flags);
        });
    }
    P9Reply lcreate(uint32_t fid, std::string_view name, uint32_t flags, uint32_t mode, uint32_t gid = 0)
    {
        return send(p9::message::tlcreate, [&](auto& w) {
            w.u32(fid);
            w.string(name);
            w.u32(flags);
            w.u32(mode);
            w.u32(gid);
        });
    }
    P9Reply read(uint32_t fid, uint64_t offset, uint32_t count)
    {
        return send(p9::message::tread, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(count);
        });
    }
    // The data of an Rread (empty on error).
    static std::string data(P9Reply const& reply)
    {
        if (!reply.ok(p9::message::tread))
            return {};
        auto r = reply.reader();
        auto bytes = r.bytes(r.u32());
        return { reinterpret_cast<char const*>(bytes.data()), bytes.size() };
    }
    P9Reply write(uint32_t fid, uint64_t offset, std::string_view data)
    {
        return send(p9::message::twrite, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(static_cast<uint32_t>(data.size()));
            w.bytes({ reinterpret_cast<uint8_t const*>(data.data()), data.size() });
        });
    }
    P9Reply mkdir(uint32_t dfid, std::string_view name, uint32_t mode = 0755, uint32_t gid = 0)
    {
        return send(p9::message::tmkdir, [&](auto& w) {
            w.u32(dfid);
            w.string(name);
            w.u32(mode);
            w.u32(gid);
        });
    }
    P9Reply symlink(uint32_t dfid, std::string_view name, std::string_view target, uint32_t gid = 0)
    {
        return send(p9::message::tsymlink, [&](auto& w) {
            w.u32(dfid);
            w.string(name);
            w.string(target);
            w.u32(gid);
        });
    }
    P9Reply link(uint32_t dfid, uint32_t fid, std::string_view name)
    {
        return send(p9::message::tlink, [&](auto& w) {
            w.u32(dfid);
            w.u32(fid);
            w.string(name);
        });
    }
    P9Reply renameat(uint32_t olddir, std::string_view oldname, uint32_t newdir, std::string_view newname)
    {
        return send(p9::message::trenameat, [&](auto& w) {
            w.u32(olddir);
            w.string(oldname);
            w.u32(newdir);
            w.string(newname);
        });
    }
    P9Reply unlinkat(uint32_t dfid, std::string_view name, uint32_t flags = 0)
    {
        return send(p9::message::tunlinkat, [&](auto& w) {
            w.u32(dfid);
            w.string(name);
            w.u32(flags);
        });
    }
    P9Reply setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size, uint32_t uid = 0)
    {
        return setattr_owner(fid, valid, mode, size, uid, uid);
    }
    P9Reply setattr_owner(uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size, uint32_t uid, uint32_t gid)
    {
        return send(p9::message::tsetattr, [&](auto& w) {
            w.u32(fid);
            w.u32(valid);
            w.u32(mode);
            w.u32(uid);
            w.u32(gid);
            w.u64(size);
            for (int i = 0; i < 4; ++i)
                w.u64(0);
        });
    }
    P9Reply readlink(uint32_t fid)
    {
        return send(p9::message::treadlink, [&](auto& w) { w.u32(fid); });
    }
    P9Reply clunk(uint32_t fid)
    {
        return send(p9::message::tclunk, [&](auto& w) { w.u32(fid); });
    }
    P9Reply getattr(uint32_t fid)
    {
        return send(p9::message::tgetattr, [&](auto& w) {
            w.u32(fid);
            w.u64(p9::getattr::basic);
        });
    }

private:
    static P9Reply decode(std::vector<uint8_t> const& reply, size_t length)
    {
        P9Reply decoded;
        if (length < p9::header_size) {
            decoded.type = 0;
            return decoded;
        }
        p9::WireReader r { std::span<uint8_t const>(reply).first(length) };
        uint32_t size = r.u32();
        EXPECT_EQ(size, length);
        decoded.type = r.u8();
        decoded.tag = r.u16();
        decoded.body.assign(reply.begin() + p9::header_size, reply.begin() + static_cast<long>(length));
        return decoded;
    }

    P9Handler& m_handler;
    uint16_t m_tag { 0 };
};

} // namespace husk::testing

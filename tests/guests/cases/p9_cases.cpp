// p9 cases: malformed 9P messages (size fields that lie, messages shorter than a header,
// strings with NULs, running past the end or over-long, walks of more than 16 names, unknown
// types), fid games (unknown, reused, clunked, open, a flood of them), Tversion renegotiated
// mid-session and with garbage, counts larger than the reply buffer, reply buffers too small or
// device-readable, requests over msize; and escapes at the protocol level: "..", absolute and
// slashed names, the share's symlinks to its outside and to "/", creates, renames, links and
// removals aimed out of the share, setattr through a symlink, mknod. The host checks after every
// p9 case that nothing beside the share changed; here every refusal the protocol promises is
// checked too.
#include "case_helpers.hpp"
#include "devices/p9_driver.hpp"

#include <cstring>
#include <initializer_list>
#include <string_view>

namespace guest {

namespace {
    using Writer = p9::WireWriter;

    // A request that must be refused: an Rlerror or no answer, never its R-message.
    void expect_refused(int outcome, char const* what)
    {
        if (outcome == 0)
            misbehaved(what);
    }

    void start(Session& session)
    {
        if (!p9_start(session))
            misbehaved("a fresh 9P session could not attach");
    }

    // A walk from the root that must not succeed for any of its names.
    void expect_walk_refused(Session& session, std::initializer_list<std::string_view> names, char const* what)
    {
        uint16_t walked = 0;
        int outcome = p9_walk(session, p9_root_fid, 50, names, &walked);
        if (outcome == 0 && walked == names.size())
            misbehaved(what);
        if (outcome == 0)
            p9_clunk(session, 50);
    }

    // A message whose size field is overwritten with `size` after it was built.
    int send_with_size(Session& session, P9Message& message, uint32_t size, uint32_t length_sent)
    {
        auto* bytes = reinterpret_cast<uint8_t*>(message.address());
        memcpy(bytes, &size, 4);
        P9Reply reply;
        bool answered = p9_exchange(session, message.address(), length_sent, reply);
        return p9_outcome(reply, bytes[4], answered);
    }

    P9Message attach_message(uint32_t fid)
    {
        P9Message message(p9::message::tattach);
        p9_write_attach(message.writer(), fid);
        return message;
    }

    int lcreate(Session& session, uint32_t fid, std::string_view name, uint32_t flags = p9::open_flag::read_write)
    {
        return p9_request(session, p9::message::tlcreate, [&](Writer& w) {
            w.u32(fid);
            w.string(name);
            w.u32(flags);
            w.u32(0644);
            w.u32(0);
        });
    }

    int mkdir(Session& session, uint32_t fid, std::string_view name)
    {
        return p9_request(session, p9::message::tmkdir, [&](Writer& w) {
            w.u32(fid);
            w.string(name);
            w.u32(0755);
            w.u32(0);
        });
    }

    int getattr(Session& session, uint32_t fid)
    {
        return p9_request(session, p9::message::tgetattr, [&](Writer& w) {
            w.u32(fid);
            w.u64(p9::getattr::basic);
        });
    }

    // A name of `length` copies of 'n'.
    std::string_view long_name(uint32_t length)
    {
        auto* text = reinterpret_cast<char*>(scratch(length + 1));
        memset(text, 'n', length);
        return { text, length };
    }
} // namespace

HOSTILE_CASE("p9", size_field_larger_than_message)
{
    start(session);
    for (uint32_t size : { 100u, 4096u, 1u << 20, 0xffff'ffffu }) {
        auto message = attach_message(20);
        uint32_t length = message.finish();
        expect_refused(send_with_size(session, message, size, length), "a message with a lying size field served");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", size_field_smaller_than_message)
{
    start(session);
    for (uint32_t size : { 0u, 1u, 6u, 7u, 12u }) {
        auto message = attach_message(21);
        uint32_t length = message.finish();
        expect_refused(send_with_size(session, message, size, length), "a message with a short size field served");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", message_shorter_than_header)
{
    start(session);
    uint64_t bytes = scratch(16);
    memset(reinterpret_cast<void*>(bytes), 0, 16);
    for (uint32_t length : { 0u, 1u, 4u, 6u }) {
        P9Reply reply;
        bool answered = p9_exchange(session, bytes, length, reply);
        expect_refused(p9_outcome(reply, p9::message::tversion, answered), "a header-less message served");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", trailing_bytes_after_fields)
{
    start(session);
    expect_refused(p9_request(session, p9::message::tclunk,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.u32(0xdeadbeef);
                       }),
        "a Tclunk with trailing bytes served");
    return After::Probe;
}

HOSTILE_CASE("p9", strings_with_nul_bytes)
{
    start(session);
    expect_walk_refused(session, { std::string_view("probe.txt\0", 10) }, "a walk to a name with a NUL succeeded");
    expect_walk_refused(session, { std::string_view("sub\0/../..", 10) }, "a walk to a name with a NUL succeeded");
    expect_refused(lcreate(session, p9_root_fid, std::string_view("a\0b", 3)), "a create with a NUL in the name");
    return After::Probe;
}

HOSTILE_CASE("p9", string_length_past_the_end)
{
    start(session);
    for (uint16_t claimed : { 10, 255, 0xffff }) {
        expect_refused(p9_request(session, p9::message::twalk,
                           [&](Writer& w) {
                               w.u32(p9_root_fid);
                               w.u32(30);
                               w.u16(1);
                               w.u16(claimed);
                               w.bytes(std::span(reinterpret_cast<uint8_t const*>("sub"), 3));
                           }),
            "a walk whose name runs past the message succeeded");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", names_over_long)
{
    start(session);
    expect_walk_refused(session, { long_name(256) }, "a walk to a 256-byte name succeeded");
    expect_refused(lcreate(session, p9_root_fid, long_name(256)), "a create of a 256-byte name succeeded");
    expect_refused(lcreate(session, p9_root_fid, long_name(4000)), "a create of a 4000-byte name succeeded");
    // 65535 bytes: a message far over the negotiated msize.
    expect_refused(p9_request(
                       session, p9::message::tmkdir,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.string(long_name(0xffff));
                           w.u32(0755);
                           w.u32(0);
                       },
                       p9_msize, 70'000),
        "a mkdir of a 65535-byte name succeeded");
    return After::Probe;
}

HOSTILE_CASE("p9", walk_more_than_16_names)
{
    start(session);
    expect_refused(p9_request(session, p9::message::twalk,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.u32(31);
                           w.u16(17);
                           for (int i = 0; i < 17; ++i)
                               w.string(i % 2 ? ".." : "sub");
                       }),
        "a walk of 17 names succeeded");
    expect_refused(p9_request(session, p9::message::twalk,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.u32(31);
                           w.u16(0xffff);
                           w.string("sub");
                       }),
        "a walk claiming 65535 names succeeded");
    return After::Probe;
}

HOSTILE_CASE("p9", dotdot_stops_at_the_root)
{
    start(session);
    // Fifteen ".." then the probe file: only reachable when ".." never left the share.
    uint16_t walked = 0;
    if (p9_walk(session, p9_root_fid, 40,
            { "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", "..", p9_probe_file },
            &walked)
            != 0
        || walked != 16)
        misbehaved("a walk of '..' x15 + the probe file did not end at the probe file");
    p9_clunk(session, 40);
    expect_walk_refused(session, { "..", "outside", "canary" }, "a walk reached outside/canary");
    expect_walk_refused(session, { "sub", "..", "..", "outside" }, "a walk reached outside/");
    return After::Probe;
}

HOSTILE_CASE("p9", absolute_and_slashed_names)
{
    start(session);
    for (std::string_view name :
        { "/", "/etc", "/etc/passwd", "sub/inner.txt", "../outside", "./probe.txt", ".", "", "sub/", "//" })
        expect_walk_refused(session, { name }, "a walk to an absolute, slashed or empty name succeeded");
    return After::Probe;
}

HOSTILE_CASE("p9", walk_through_outward_symlinks)
{
    start(session);
    // ".." after a symlink is lexical (back to the share's root), never the link target's parent.
    expect_walk_refused(session, { p9_outward_directory_link, "deep.txt" }, "a walk went through the outward symlink");
    expect_walk_refused(session, { p9_outward_link, "..", "..", "outside" }, "a walk went through the outward symlink");
    expect_walk_refused(session, { p9_root_link, "etc" }, "a walk went through the symlink to /");
    expect_walk_refused(session, { p9_root_link, "tmp" }, "a walk went through the symlink to /");
    // The link itself may be walked to, never opened through.
    if (p9_walk(session, p9_root_fid, 41, { p9_outward_link }) == 0) {
        for (uint32_t flags : { 0u, p9::open_flag::read_write, p9::open_flag::write_only | p9::open_flag::truncate })
            expect_refused(p9_lopen(session, 41, flags), "an open through the outward symlink succeeded");
        // Truncation and chmod aimed at the link: the outside canary must not change (host check).
        p9_request(session, p9::message::tsetattr, [](Writer& w) {
            w.u32(41);
            w.u32(p9::setattr::size | p9::setattr::mode);
            w.u32(0777);
            w.u32(0);
            w.u32(0);
            w.u64(0);
            for (int i = 0; i < 4; ++i)
                w.u64(0);
        });
        p9_clunk(session, 41);
    }
    return After::Probe;
}

HOSTILE_CASE("p9", creates_aimed_outside)
{
    start(session);
    for (std::string_view name : { "..", ".", "../escaped", "/tmp/escaped", "sub/../../escaped", "a/b", "" }) {
        expect_refused(lcreate(session, p9_root_fid, name), "a create of a path, not a name, succeeded");
        expect_refused(mkdir(session, p9_root_fid, name), "a mkdir of a path, not a name, succeeded");
        expect_refused(p9_request(session, p9::message::tsymlink,
                           [&](Writer& w) {
                               w.u32(p9_root_fid);
                               w.string(name);
                               w.string("/etc/passwd");
                               w.u32(0);
                           }),
            "a symlink at a path, not a name, succeeded");
    }
    // Through the outward symlink as the directory.
    if (p9_walk(session, p9_root_fid, 42, { p9_outward_directory_link }) == 0) {
        expect_refused(lcreate(session, 42, "escaped"), "a create under the outward symlink succeeded");
        expect_refused(mkdir(session, 42, "escaped"), "a mkdir under the outward symlink succeeded");
        p9_clunk(session, 42);
    }
    return After::Probe;
}

HOSTILE_CASE("p9", renames_and_links_aimed_outside)
{
    start(session);
    if (p9_walk(session, p9_root_fid, 43, { "sub", "inner.txt" }) != 0)
        misbehaved("the share's sub/inner.txt is not there");
    expect_refused(p9_request(session, p9::message::trename,
                       [](Writer& w) {
                           w.u32(43);
                           w.u32(p9_root_fid);
                           w.string("../moved");
                       }),
        "a rename out of the share succeeded");
    for (std::string_view name : { "..", "../moved", "/tmp/moved" }) {
        expect_refused(p9_request(session, p9::message::trenameat,
                           [&](Writer& w) {
                               w.u32(p9_root_fid);
                               w.string("probe.txt");
                               w.u32(p9_root_fid);
                               w.string(name);
                           }),
            "a renameat out of the share succeeded");
        expect_refused(p9_request(session, p9::message::tlink,
                           [&](Writer& w) {
                               w.u32(p9_root_fid);
                               w.u32(43);
                               w.string(name);
                           }),
            "a link out of the share succeeded");
    }
    // A hard link of the outward symlink stays a link of the symlink (outside/canary's link count
    // is checked by the host).
    if (p9_walk(session, p9_root_fid, 44, { p9_outward_link }) == 0) {
        p9_request(session, p9::message::tlink, [](Writer& w) {
            w.u32(p9_root_fid);
            w.u32(44);
            w.string("hard-link");
        });
        p9_clunk(session, 44);
    }
    // The root itself renamed or removed.
    expect_refused(p9_request(session, p9::message::trename,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.u32(p9_root_fid);
                           w.string("moved-root");
                       }),
        "the share's root was renamed");
    p9_clunk(session, 43);
    return After::Probe;
}

HOSTILE_CASE("p9", removals_aimed_outside)
{
    start(session);
    for (std::string_view name : { "..", "../outside", "/tmp", ".", "sub/../../outside" }) {
        for (uint32_t flags : { 0u, p9::unlink_remove_dir })
            expect_refused(p9_request(session, p9::message::tunlinkat,
                               [&](Writer& w) {
                                   w.u32(p9_root_fid);
                                   w.string(name);
                                   w.u32(flags);
                               }),
                "an unlinkat out of the share succeeded");
    }
    // Tremove of the root, and of a fid walked to "..".
    if (p9_walk(session, p9_root_fid, 45, { ".." }) == 0)
        expect_refused(p9_request(session, p9::message::tremove, [](Writer& w) { w.u32(45); }),
            "a Tremove of the share's parent succeeded");
    expect_refused(p9_request(session, p9::message::tremove, [](Writer& w) { w.u32(p9_root_fid); }),
        "a Tremove of the share's root succeeded");
    start(session); // the Tremove clunked the root fid either way
    return After::Probe;
}

HOSTILE_CASE("p9", mknod_and_special_files)
{
    start(session);
    for (uint32_t mode : { 0020666u, 0060666u, 0010666u, 0140666u }) {
        expect_refused(p9_request(session, p9::message::tmknod,
                           [&](Writer& w) {
                               w.u32(p9_root_fid);
                               w.string("node");
                               w.u32(mode);
                               w.u32(1);
                               w.u32(3);
                               w.u32(0);
                           }),
            "a mknod succeeded");
    }
    expect_walk_refused(session, { "node" }, "a refused mknod left a node behind");
    return After::Probe;
}

HOSTILE_CASE("p9", setattr_games)
{
    start(session);
    // set-user-ID on the root, sizes on a directory, times out of range, unknown valid bits.
    for (uint32_t valid : { p9::setattr::mode, p9::setattr::size, 0xffff'ffffu, p9::setattr::uid | p9::setattr::gid,
             p9::setattr::atime_set | p9::setattr::mtime_set }) {
        p9_request(session, p9::message::tsetattr, [&](Writer& w) {
            w.u32(p9_root_fid);
            w.u32(valid);
            w.u32(04777);
            w.u32(0);
            w.u32(0);
            w.u64(1ull << 62);
            for (int i = 0; i < 4; ++i)
                w.u64(~0ull);
        });
    }
    // The share root must stay usable.
    if (getattr(session, p9_root_fid) != 0)
        misbehaved("getattr of the root failed after setattr games");
    return After::Probe;
}

HOSTILE_CASE("p9", unknown_fids)
{
    start(session);
    for (uint32_t fid : { 0u, 2u, 0x7fff'ffffu, p9::no_fid }) {
        expect_refused(getattr(session, fid), "getattr of an unknown fid succeeded");
        expect_refused(p9_lopen(session, fid, 0), "open of an unknown fid succeeded");
        expect_refused(p9_walk(session, fid, 60, { "sub" }), "a walk from an unknown fid succeeded");
        expect_refused(p9_clunk(session, fid), "clunk of an unknown fid succeeded");
        uint8_t data[8];
        uint32_t got = 0;
        expect_refused(p9_read(session, fid, 0, 8, data, &got), "a read of an unknown fid succeeded");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", reused_and_clunked_fids)
{
    start(session);
    expect_refused(p9_attach(session, p9_root_fid), "a second attach to a fid in use succeeded");
    if (p9_walk(session, p9_root_fid, 61, { "sub" }) != 0)
        misbehaved("a walk to sub failed");
    expect_refused(p9_walk(session, p9_root_fid, 61, { p9_probe_file }), "a walk into a fid in use succeeded");
    // fid == newfid moves the fid (legal); then it names the probe file.
    if (p9_walk(session, 61, 61, { "..", p9_probe_file }) != 0)
        misbehaved("a walk of a fid onto itself failed");
    if (p9_lopen(session, 61, 0) != 0)
        misbehaved("opening the probe file failed");
    expect_refused(p9_lopen(session, 61, 0), "a second open of the same fid succeeded");
    expect_refused(p9_walk(session, 61, 62, { ".." }), "a walk from an open fid succeeded");
    expect_refused(p9_request(session, p9::message::twrite,
                       [](Writer& w) {
                           w.u32(61);
                           w.u64(0);
                           w.u32(4);
                           w.u32(0x21212121);
                       }),
        "a write through a read-only open succeeded");
    if (p9_clunk(session, 61) != 0)
        misbehaved("clunk failed");
    expect_refused(p9_clunk(session, 61), "a second clunk succeeded");
    expect_refused(getattr(session, 61), "a clunked fid still worked");
    return After::Probe;
}

HOSTILE_CASE("p9", fid_flood)
{
    start(session);
    uint64_t until = now_ns() + 5000 * milliseconds;
    uint32_t made = 0;
    for (uint32_t fid = 1000; fid < 5000 && now_ns() < until; ++fid, ++made) {
        if (p9_walk(session, p9_root_fid, fid, { "sub" }) != 0)
            break;
    }
    print("hostile: p9 fids walked: ");
    print_decimal(made);
    println("");
    return After::Probe; // the probe's Tversion drops them all
}

HOSTILE_CASE("p9", version_renegotiated_mid_session)
{
    start(session);
    if (p9_walk(session, p9_root_fid, 70, { p9_probe_file }) != 0 || p9_lopen(session, 70, 0) != 0)
        misbehaved("opening the probe file failed");
    if (p9_version(session) != 0)
        misbehaved("a Tversion mid-session was refused");
    uint8_t data[8];
    uint32_t got = 0;
    expect_refused(p9_read(session, 70, 0, 8, data, &got), "an open fid survived a Tversion");
    expect_refused(getattr(session, p9_root_fid), "the root fid survived a Tversion");
    start(session);
    return After::Probe;
}

HOSTILE_CASE("p9", version_garbage)
{
    for (uint32_t msize : { 0u, 1u, 7u, 4095u })
        expect_refused(p9_version(session, msize), "a Tversion with a tiny msize succeeded");
    expect_refused(p9_version(session, p9_msize, p9::protocol_version, 1), "a Tversion with a tag succeeded");
    for (char const* version : { "9P2000", "9P2000.u", "", "9P2000.L\n", "9P2000.LL" }) {
        P9Reply reply;
        int outcome = p9_request(
            session, p9::message::tversion,
            [&](Writer& w) {
                w.u32(p9_msize);
                w.string(version);
            },
            p9_msize, p9_msize, &reply);
        (void)outcome;
    }
    // msize 2^32-1: the answer must be capped at what the device serves.
    P9Message message(p9::message::tversion, p9::no_tag);
    message.writer().u32(0xffff'ffff);
    message.writer().string(p9::protocol_version);
    P9Reply reply;
    bool answered = p9_call(session, message, reply);
    if (p9_outcome(reply, p9::message::tversion, answered) != 0)
        misbehaved("a Tversion with a huge msize was refused");
    uint32_t granted = reply.bytes[7] | reply.bytes[8] << 8 | reply.bytes[9] << 16 | uint32_t(reply.bytes[10]) << 24;
    if (granted > (1u << 20))
        misbehaved("a huge msize was granted as asked");
    return After::Probe;
}

HOSTILE_CASE("p9", counts_larger_than_the_reply_buffer)
{
    // msize at 2^32-1 asked (the device grants its ceiling), then reads and readdirs asking for
    // everything into 64 bytes: the reply must fit the buffer or be an error.
    P9Message message(p9::message::tversion, p9::no_tag);
    message.writer().u32(0xffff'ffff);
    message.writer().string(p9::protocol_version);
    P9Reply reply;
    p9_call(session, message, reply);
    if (p9_attach(session, p9_root_fid) != 0)
        misbehaved("attach failed");
    if (p9_walk(session, p9_root_fid, 80, { p9_probe_file }) != 0 || p9_lopen(session, 80, 0) != 0)
        misbehaved("opening the probe file failed");
    if (p9_walk(session, p9_root_fid, 81, {}) != 0 || p9_lopen(session, 81, 0) != 0)
        misbehaved("opening the root directory failed");
    for (uint32_t capacity : { 64u, 11u, 7u }) {
        for (uint32_t count : { 1u << 20, 0xffff'ffffu }) {
            p9_request(
                session, p9::message::tread,
                [&](Writer& w) {
                    w.u32(80);
                    w.u64(0);
                    w.u32(count);
                },
                capacity);
            p9_request(
                session, p9::message::treaddir,
                [&](Writer& w) {
                    w.u32(81);
                    w.u64(0);
                    w.u32(count);
                },
                capacity);
        }
    }
    // Offsets past everything.
    for (uint64_t offset : { 1ull << 62, ~0ull }) {
        p9_request(session, p9::message::tread, [&](Writer& w) {
            w.u32(80);
            w.u64(offset);
            w.u32(4096);
        });
        p9_request(session, p9::message::treaddir, [&](Writer& w) {
            w.u32(81);
            w.u64(offset);
            w.u32(4096);
        });
    }
    return After::Probe;
}

HOSTILE_CASE("p9", reply_buffers_too_small_or_missing)
{
    start(session);
    for (uint32_t capacity : { 0u, 1u, 6u, 10u }) {
        p9_request(
            session, p9::message::tgetattr,
            [](Writer& w) {
                w.u32(p9_root_fid);
                w.u64(p9::getattr::basic);
            },
            capacity);
    }
    return After::Probe;
}

HOSTILE_CASE("p9", reply_buffer_device_readable)
{
    start(session);
    P9Message message(p9::message::tgetattr);
    message.writer().u32(p9_root_fid);
    message.writer().u64(p9::getattr::basic);
    uint32_t length = message.finish();
    uint64_t reply = scratch(256);
    memset(reinterpret_cast<void*>(reply), 0x5a, 256);
    auto& queue = data_queue(session);
    queue.set(0, message.address(), length, flag_next, 1);
    queue.set(1, reply, 256, 0);
    queue.submit(0);
    settle(session);
    for (uint32_t i = 0; i < 256; ++i) {
        if (reinterpret_cast<uint8_t const*>(reply)[i] != 0x5a)
            misbehaved("the device wrote a device-readable reply buffer");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", request_larger_than_the_device_takes)
{
    start(session);
    // 2 MiB of Twrite: over the device's 1 MiB ceiling, refused without a reply.
    P9Message message(p9::message::twrite, 1, 2u << 20);
    message.writer().u32(p9_root_fid);
    message.writer().u64(0);
    message.writer().u32((2u << 20) - 23);
    message.writer().reserve((2u << 20) - 23);
    P9Reply reply;
    bool answered = p9_call(session, message, reply);
    expect_refused(p9_outcome(reply, p9::message::twrite, answered), "a 2 MiB request was served");
    return After::Probe;
}

HOSTILE_CASE("p9", unknown_and_reply_types)
{
    start(session);
    for (uint8_t type : { 0, 6, 7, 9, 101, 105, 117, 200, 255 }) {
        expect_refused(p9_request(session, type, [](Writer& w) { w.u32(p9_root_fid); }),
            "an unknown or R-message type was served");
    }
    return After::Probe;
}

HOSTILE_CASE("p9", xattr_auth_lock_and_flush_garbage)
{
    start(session);
    expect_refused(p9_request(session, p9::message::tauth,
                       [](Writer& w) {
                           w.u32(90);
                           w.string("root");
                           w.string("/");
                           w.u32(0);
                       }),
        "Tauth succeeded");
    expect_refused(p9_request(session, p9::message::txattrwalk,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.u32(91);
                           w.string("security.capability");
                       }),
        "Txattrwalk succeeded");
    expect_refused(p9_request(session, p9::message::txattrcreate,
                       [](Writer& w) {
                           w.u32(p9_root_fid);
                           w.string("user.x");
                           w.u64(~0ull);
                           w.u32(0);
                       }),
        "Txattrcreate succeeded");
    for (uint16_t tag : { 0, 1, 0xfffe, 0xffff })
        p9_request(session, p9::message::tflush, [&](Writer& w) { w.u16(tag); });
    p9_request(session, p9::message::tlock, [](Writer& w) {
        w.u32(p9_root_fid);
        w.u8(0xff);
        w.u32(0xffff'ffff);
        w.u64(~0ull);
        w.u64(~0ull);
        w.u32(0);
        w.string(long_name(3000));
    });
    p9_request(session, p9::message::tgetlock, [](Writer& w) {
        w.u32(0x7777);
        w.u8(7);
        w.u64(~0ull);
        w.u64(~0ull);
        w.u32(1);
        w.string(long_name(255));
    });
    return After::Probe;
}

HOSTILE_CASE("p9", whole_ring_in_one_kick)
{
    // Every chain of the ring at once, all with the same tag.
    start(session);
    auto& queue = data_queue(session);
    uint16_t requests = queue.size() / 2;
    for (uint16_t i = 0; i < requests; ++i) {
        P9Message message(p9::message::tgetattr);
        message.writer().u32(p9_root_fid);
        message.writer().u64(p9::getattr::basic);
        uint32_t length = message.finish();
        uint16_t slot = static_cast<uint16_t>(2 * i);
        queue.set(slot, message.address(), length, flag_next, static_cast<uint16_t>(slot + 1));
        queue.set(static_cast<uint16_t>(slot + 1), scratch(256), 256, flag_write);
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    unsigned answered = 0;
    UsedElement used {};
    while (answered < requests && queue.wait_used(used) == WaitResult::Used)
        ++answered;
    if (answered != requests)
        misbehaved("not every request of a full ring was answered");
    return After::Probe;
}

HOSTILE_CASE("p9", writes_at_odd_offsets)
{
    start(session);
    if (p9_walk(session, p9_root_fid, 95, {}) != 0)
        misbehaved("walk to the root failed");
    if (lcreate(session, 95, "scratch-file") != 0)
        misbehaved("create in the share failed");
    for (uint64_t offset : { ~0ull, 1ull << 63, (1ull << 63) - 1 }) {
        p9_request(session, p9::message::twrite, [&](Writer& w) {
            w.u32(95);
            w.u64(offset);
            w.u32(4);
            w.u32(0x41414141);
        });
    }
    // A count that claims more than the message holds.
    expect_refused(p9_request(session, p9::message::twrite,
                       [](Writer& w) {
                           w.u32(95);
                           w.u64(0);
                           w.u32(1000);
                           w.u32(0x42424242);
                       }),
        "a Twrite whose count runs past the message succeeded");
    p9_clunk(session, 95);
    return After::Probe;
}

} // namespace guest

// virtio-9p (device 9): requests and the probe (a whole session: version, attach, walk, open,
// read, clunk).
#include "p9_driver.hpp"

#include "runtime/arena.hpp"

#include <cstring>

namespace guest {

namespace {
    // Message buffers are reused round-robin (a case may build a whole ring's worth before
    // sending): fresh guest memory for every request would make a flood of requests slow.
    constexpr unsigned reused_buffers = 32;
    uint64_t message_buffers[reused_buffers];
    unsigned message_cursor = 0;
    uint64_t reply_buffer = 0;
    uint32_t reply_buffer_size = 0;

    uint64_t message_buffer(uint32_t capacity)
    {
        if (capacity > p9_msize)
            return scratch(capacity);
        uint64_t& buffer = message_buffers[message_cursor++ % reused_buffers];
        if (buffer == 0)
            buffer = scratch(p9_msize);
        memset(reinterpret_cast<void*>(buffer), 0, p9_msize);
        return buffer;
    }
} // namespace

P9Message::P9Message(uint8_t type, uint16_t tag, uint32_t capacity)
    : m_buffer(message_buffer(capacity))
    , m_writer(std::span(reinterpret_cast<uint8_t*>(m_buffer), capacity))
{
    m_writer.begin(type, tag);
}

uint32_t P9Message::finish() { return static_cast<uint32_t>(m_writer.finish()); }

bool p9_exchange(
    Session& session, uint64_t request, uint32_t request_length, P9Reply& reply, uint32_t reply_capacity, uint16_t slot)
{
    auto& queue = session.queues[0];
    if (reply_capacity > reply_buffer_size) {
        reply_buffer = scratch(reply_capacity);
        reply_buffer_size = reply_capacity;
    }
    if (reply_capacity) {
        queue.set(slot, request, request_length, flag_next, static_cast<uint16_t>(slot + 1));
        queue.set(static_cast<uint16_t>(slot + 1), reply_buffer, reply_capacity, flag_write);
    } else {
        queue.set(slot, request, request_length, 0);
    }
    queue.submit(slot);
    UsedElement used {};
    if (queue.wait_for_head(slot, used) != WaitResult::Used)
        return false;
    reply = P9Reply {};
    reply.length = used.length;
    reply.bytes = reinterpret_cast<uint8_t const*>(reply_buffer);
    if (used.length > reply_capacity)
        misbehaved("a 9P used length larger than the reply buffer");
    if (used.length < p9::header_size)
        return true;
    p9::WireReader reader(std::span(reply.bytes, used.length));
    uint32_t size = reader.u32();
    reply.type = reader.u8();
    reply.tag = reader.u16();
    if (size != used.length) {
        print("p9: reply size field ");
        print_decimal(size);
        print(" but used length ");
        print_decimal(used.length);
        println("");
        misbehaved("a 9P reply whose size field is not its used length");
    }
    if (reply.type == p9::message::rlerror)
        reply.error = reader.u32();
    return true;
}

bool p9_call(Session& session, P9Message& message, P9Reply& reply, uint32_t reply_capacity)
{
    uint32_t length = message.finish();
    return p9_exchange(session, message.address(), length, reply, reply_capacity);
}

int p9_outcome(P9Reply const& reply, uint8_t type, bool answered)
{
    if (!answered || reply.length < p9::header_size)
        return p9_no_answer;
    if (reply.type == p9::message::rlerror)
        return static_cast<int>(reply.error ? reply.error : 0x7fffffff);
    if (reply.type != p9::message::reply_to(type))
        misbehaved("a 9P reply of the wrong type");
    return 0;
}

int p9_version(Session& session, uint32_t msize, char const* version, uint16_t tag)
{
    P9Message message(p9::message::tversion, tag);
    message.writer().u32(msize);
    message.writer().string(version);
    P9Reply reply;
    bool answered = p9_call(session, message, reply);
    return p9_outcome(reply, p9::message::tversion, answered);
}

void p9_write_attach(p9::WireWriter& writer, uint32_t fid)
{
    writer.u32(fid);
    writer.u32(p9::no_fid); // no authentication fid
    writer.string(""); // user name
    writer.string(""); // attach name
    writer.u32(0); // numeric uid
}

int p9_attach(Session& session, uint32_t fid)
{
    return p9_request(session, p9::message::tattach, [&](p9::WireWriter& w) { p9_write_attach(w, fid); });
}

bool p9_start(Session& session) { return p9_version(session) == 0 && p9_attach(session, p9_root_fid) == 0; }

int p9_walk(
    Session& session, uint32_t fid, uint32_t newfid, std::initializer_list<std::string_view> names, uint16_t* walked)
{
    P9Message message(p9::message::twalk);
    message.writer().u32(fid);
    message.writer().u32(newfid);
    message.writer().u16(static_cast<uint16_t>(names.size()));
    for (auto name : names)
        message.writer().string(name);
    P9Reply reply;
    bool answered = p9_call(session, message, reply);
    int outcome = p9_outcome(reply, p9::message::twalk, answered);
    if (outcome == 0 && walked)
        *walked = static_cast<uint16_t>(reply.bytes[7] | reply.bytes[8] << 8);
    return outcome;
}

int p9_lopen(Session& session, uint32_t fid, uint32_t flags)
{
    return p9_request(session, p9::message::tlopen, [&](p9::WireWriter& w) {
        w.u32(fid);
        w.u32(flags);
    });
}

int p9_clunk(Session& session, uint32_t fid)
{
    return p9_request(session, p9::message::tclunk, [&](p9::WireWriter& w) { w.u32(fid); });
}

int p9_read(Session& session, uint32_t fid, uint64_t offset, uint32_t count, uint8_t* out, uint32_t* got)
{
    P9Message message(p9::message::tread);
    message.writer().u32(fid);
    message.writer().u64(offset);
    message.writer().u32(count);
    P9Reply reply;
    bool answered = p9_call(session, message, reply);
    int outcome = p9_outcome(reply, p9::message::tread, answered);
    if (outcome != 0)
        return outcome;
    p9::WireReader reader(std::span(reply.bytes + p9::header_size, reply.length - p9::header_size));
    uint32_t length = reader.u32();
    auto data = reader.bytes(length);
    if (reader.failed() || length > count)
        misbehaved("an Rread whose count does not fit the request or the reply");
    memcpy(out, data.data(), data.size());
    *got = length;
    return 0;
}

bool p9_probe_read(Session& session, uint32_t root_fid)
{
    constexpr uint32_t file_fid = 0x7000;
    p9_clunk(session, file_fid); // a case may have left it
    if (int error = p9_walk(session, root_fid, file_fid, { p9_probe_file }); error != 0) {
        print("p9 probe: walk to the probe file: ");
        print_decimal(static_cast<uint64_t>(error));
        println("");
        return false;
    }
    if (int error = p9_lopen(session, file_fid, 0); error != 0) {
        print("p9 probe: open: ");
        print_decimal(static_cast<uint64_t>(error));
        println("");
        return false;
    }
    uint8_t contents[64] {};
    uint32_t got = 0;
    int error = p9_read(session, file_fid, 0, sizeof contents, contents, &got);
    p9_clunk(session, file_fid);
    if (error != 0 || got != sizeof p9_probe_contents - 1 || memcmp(contents, p9_probe_contents, got) != 0) {
        println("p9 probe: the probe file did not read back");
        return false;
    }
    return true;
}

namespace {

    bool probe_p9(Session& session)
    {
        if (!p9_start(session)) {
            println("p9 probe: version or attach failed");
            return false;
        }
        return p9_probe_read(session, p9_root_fid);
    }

    constexpr DeviceKind p9_kind {
        .name = "p9",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::NineP),
        .matches = nullptr,
        .queue_count = 1,
        .data_queue = 0,
        .data_flags = 0,
        .wanted_features = feature_mask(p9::feature::mount_tag),
        .prepare = nullptr,
        .probe = probe_p9,
        .generic_target = true,
    };
    HOSTILE_DEVICE_KIND(p9_kind);

} // namespace

} // namespace guest

// libFuzzer target for the confined file server: sequences of fuzzer-built 9P requests (known
// types, small fids, names from a dictionary of escape attempts, raw bytes now and then) served
// by a ShareServer on a temporary share that holds a symlink to the outside, a FIFO and a
// subdirectory; beside the share lies an "outside" directory with a secret.
// Properties checked after every input:
//   - every reply is a well-formed 9P message no longer than the buffer; a Tread served
//     zero-copy (handle_read, into fuzzer-sized buffers) reads no more than their room, and its
//     size field counts header and data; a Twrite served zero-copy (handle_write, its data cut
//     into fuzzer-sized guest buffers, the header's count and size possibly disagreeing) answers
//     with a well-formed reply too;
//   - the secret outside is unchanged (contents, owner, mode) and nothing new appeared outside the
//     share; on shares served with the server's and with the guest's owners;
//   - the server never blocks (a FIFO open would hang the target: libFuzzer reports a timeout).
#include "runtime/share/share_server.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/p9/p9_wire.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace husk;
using namespace husk::p9;
namespace fs = std::filesystem;

namespace {

mode_t s_secret_mode = 0;
mode_t s_outside_mode = 0;

fs::path const& top()
{
    static fs::path path = [] {
        std::string pattern = (fs::temp_directory_path() / "husk-share-fuzz-XXXXXX").string();
        require(::mkdtemp(pattern.data()) != nullptr);
        fs::create_directories(fs::path(pattern) / "outside");
        std::ofstream(fs::path(pattern) / "outside" / "secret") << "secret";
        struct stat st { };
        require(::stat((fs::path(pattern) / "outside" / "secret").c_str(), &st) == 0);
        s_secret_mode = st.st_mode & 07777;
        require(::stat((fs::path(pattern) / "outside").c_str(), &st) == 0);
        s_outside_mode = st.st_mode & 07777;
        return fs::path(pattern);
    }();
    return path;
}

void reset_share()
{
    auto share = top() / "share";
    fs::remove_all(share);
    fs::create_directories(share / "sub");
    std::ofstream(share / "file") << "data";
    fs::create_symlink(top() / "outside", share / "out");
    fs::create_symlink("../../outside/secret", share / "sub" / "up");
    ::mkfifo((share / "fifo").c_str(), 0644);
}

std::string read_all(fs::path const& path)
{
    std::ifstream in(path);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
}

std::string_view pick_name(FuzzedDataProvider& input)
{
    static constexpr std::string_view names[] = { "file", "sub", "out", "up", "fifo", "..", ".", "", "new", "a/b",
        "../outside", "/etc", "secret", "outside", "share", "n2" };
    return names[input.ConsumeIntegralInRange<size_t>(0, std::size(names) - 1)];
}

std::vector<uint8_t> build(FuzzedDataProvider& input, uint16_t tag)
{
    static constexpr uint8_t types[] = { message::tattach, message::twalk, message::tlopen, message::tlcreate,
        message::tread, message::twrite, message::treaddir, message::tgetattr, message::tsetattr, message::tmkdir,
        message::tsymlink, message::tlink, message::trenameat, message::trename, message::tunlinkat, message::tremove,
        message::treadlink, message::tclunk, message::tfsync, message::tstatfs, message::tmknod };
    std::vector<uint8_t> bytes(8192);
    WireWriter w(bytes);
    uint8_t type = types[input.ConsumeIntegralInRange<size_t>(0, std::size(types) - 1)];
    w.u32(0);
    w.u8(type);
    w.u16(tag);
    auto fid = [&] { w.u32(input.ConsumeIntegralInRange<uint32_t>(0, 4)); };
    switch (type) {
    case message::tattach:
        fid();
        w.u32(no_fid);
        w.string("");
        w.string("");
        w.u32(0);
        break;
    case message::twalk: {
        fid();
        fid();
        uint16_t count = input.ConsumeIntegralInRange<uint16_t>(0, 4);
        w.u16(count);
        for (uint16_t i = 0; i < count; ++i)
            w.string(pick_name(input));
        break;
    }
    case message::tlopen:
        fid();
        w.u32(input.ConsumeIntegral<uint32_t>() & 07777777);
        break;
    case message::tlcreate:
        fid();
        w.string(pick_name(input));
        w.u32(input.ConsumeIntegral<uint32_t>() & 03003);
        w.u32(input.ConsumeIntegral<uint32_t>());
        w.u32(0);
        break;
    case message::tread:
    case message::treaddir:
        fid();
        w.u64(input.ConsumeIntegralInRange<uint64_t>(0, 64));
        w.u32(input.ConsumeIntegralInRange<uint32_t>(0, 4096));
        break;
    case message::twrite: {
        fid();
        w.u64(input.ConsumeIntegralInRange<uint64_t>(0, 64));
        auto data = input.ConsumeBytes<uint8_t>(input.ConsumeIntegralInRange<size_t>(0, 64));
        w.u32(static_cast<uint32_t>(data.size()));
        w.bytes(data);
        break;
    }
    case message::tgetattr:
        fid();
        w.u64(getattr::basic);
        break;
    case message::tsetattr:
        fid();
        w.u32(input.ConsumeIntegral<uint32_t>() & 0x1ff);
        w.u32(input.ConsumeIntegral<uint32_t>());
        w.u32(0);
        w.u32(0);
        w.u64(input.ConsumeIntegralInRange<uint64_t>(0, 100));
        for (int i = 0; i < 4; ++i)
            w.u64(0);
        break;
    case message::tmkdir:
        fid();
        w.string(pick_name(input));
        w.u32(0755);
        w.u32(0);
        break;
    case message::tsymlink:
        fid();
        w.string(pick_name(input));
        w.string(pick_name(input));
        w.u32(0);
        break;
    case message::tlink:
        fid();
        fid();
        w.string(pick_name(input));
        break;
    case message::trenameat:
        fid();
        w.string(pick_name(input));
        fid();
        w.string(pick_name(input));
        break;
    case message::trename:
        fid();
        fid();
        w.string(pick_name(input));
        break;
    case message::tunlinkat:
        fid();
        w.string(pick_name(input));
        w.u32(input.ConsumeBool() ? 0x200 : 0);
        break;
    case message::tfsync:
        fid();
        w.u32(0);
        break;
    case message::tmknod:
        fid();
        w.string(pick_name(input));
        w.u32(S_IFIFO | 0644);
        w.u32(0);
        w.u32(0);
        w.u32(0);
        break;
    default:
        fid();
        break;
    }
    w.patch_u32(0, static_cast<uint32_t>(w.size()));
    bytes.resize(w.size());
    if (input.ConsumeIntegralInRange<int>(0, 15) == 0 && !bytes.empty())
        bytes[input.ConsumeIntegralInRange<size_t>(0, bytes.size() - 1)] = input.ConsumeIntegral<uint8_t>();
    return bytes;
}

// The zero-copy read path: the data buffers as a guest might lay them out (a few, of any size).
void serve_read_in_place(ShareServer& server, std::vector<uint8_t> const& request, FuzzedDataProvider& input)
{
    std::vector<std::vector<uint8_t>> buffers(input.ConsumeIntegralInRange<size_t>(0, 4));
    std::vector<iovec> vectors;
    uint64_t room = 0;
    for (auto& buffer : buffers) {
        buffer.resize(input.ConsumeIntegralInRange<size_t>(0, 5000));
        vectors.push_back({ buffer.data(), buffer.size() });
        room += buffer.size();
    }
    std::array<uint8_t, rread_header_size> header {};
    auto reply = server.handle_read(request, vectors, room, header);
    require(reply.header_length <= header.size() && reply.data_bytes <= room);
    if (reply.header_length > 0) {
        WireReader r(std::span<uint8_t const>(header).first(reply.header_length));
        require(r.u32() == reply.header_length + reply.data_bytes);
    }
}

// The zero-copy write path: the 23-byte header alone and the rest of the message as the data,
// cut into a few guest buffers of fuzzer-chosen sizes (the device hands over what the chain
// holds, so the buffers' total is the data's length; the header may disagree with it).
size_t serve_write_in_place(
    ShareServer& server, std::vector<uint8_t>& request, std::span<uint8_t> reply, FuzzedDataProvider& input)
{
    auto header = std::span<uint8_t const>(request).first(twrite_header_size);
    auto data = std::span<uint8_t>(request).subspan(twrite_header_size);
    std::vector<iovec> vectors;
    for (size_t at = 0; at < data.size();) {
        size_t piece = std::min(data.size() - at, input.ConsumeIntegralInRange<size_t>(1, 32));
        vectors.push_back({ data.data() + at, piece });
        at += piece;
    }
    return server.handle_write(header, vectors, data.size(), reply);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    // Guest-owned shares (chown, set-ID bits) on the second bit of the byte ConsumeBool() reads
    // (the last), so inputs kept before this choice existed mean what they meant.
    auto ownership = size > 0 && (data[size - 1] & 2) ? ShareOwnership::Guest : ShareOwnership::ServerUser;
    FuzzedDataProvider input(data, size);
    reset_share();
    auto root = ShareRoot::open((top() / "share").string(),
        input.ConsumeBool() ? ShareAccess::ReadOnly : ShareAccess::ReadWrite, { ::geteuid(), ::getegid() }, ownership);
    require(root.has_value());
    ShareServer server(std::move(root).value());
    std::vector<uint8_t> reply(8192);
    auto handshake = std::vector<uint8_t> { 21, 0, 0, 0, message::tversion, 0xff, 0xff, 0, 32, 0, 0, 8, 0 };
    handshake.insert(handshake.end(), { '9', 'P', '2', '0', '0', '0', '.', 'L' });
    require(server.handle(handshake, reply) > 0);
    std::vector<uint8_t> attach { 0, 0, 0, 0, message::tattach, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0,
        0, 0, 0 };
    attach[0] = static_cast<uint8_t>(attach.size());
    require(server.handle(attach, reply) > 0);
    for (uint16_t tag = 2; input.remaining_bytes() > 0 && tag < 64; ++tag) {
        auto request = build(input, tag);
        if (request.size() == tread_size && request[4] == message::tread && input.ConsumeBool()) {
            serve_read_in_place(server, request, input);
            continue;
        }
        bool in_place = request.size() >= twrite_header_size && request[4] == message::twrite && input.ConsumeBool();
        size_t length = in_place ? serve_write_in_place(server, request, reply, input) : server.handle(request, reply);
        require(length <= reply.size());
        if (length > 0) {
            WireReader r(std::span<uint8_t const>(reply).first(length));
            require(r.u32() == length);
        }
    }
    require(read_all(top() / "outside" / "secret") == "secret");
    // Nothing chowned or chmodded through the links to the outside either.
    struct stat secret { }, outside { };
    require(::stat((top() / "outside" / "secret").c_str(), &secret) == 0 && secret.st_uid == ::geteuid()
        && (secret.st_mode & 07777) == s_secret_mode);
    require(::stat((top() / "outside").c_str(), &outside) == 0 && outside.st_uid == ::geteuid()
        && (outside.st_mode & 07777) == s_outside_mode);
    size_t outside_entries = 0;
    for ([[maybe_unused]] auto const& entry : fs::directory_iterator(top() / "outside"))
        ++outside_entries;
    require(outside_entries == 1);
    size_t top_entries = 0;
    for ([[maybe_unused]] auto const& entry : fs::directory_iterator(top()))
        ++top_entries;
    require(top_entries == 2);
    return 0;
}

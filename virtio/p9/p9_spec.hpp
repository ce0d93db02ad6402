// 9P2000.L constants and the virtio-9p device's wire structures (virtio 1.2 §5.11, Linux
// include/net/9p/9p.h): message types, qid types, the getattr/setattr masks and the open flags
// the Linux client sends. Every 9P integer is little-endian; errors are Linux errno values.
#pragma once

#include <cstdint>

namespace husk::p9 {

// The only protocol version served: what `version=9p2000.L` asks for.
inline constexpr char const* protocol_version = "9P2000.L";
inline constexpr uint32_t no_fid = 0xffffffffu;
inline constexpr uint16_t no_tag = 0xffffu;
// size[4] type[1] tag[2]: what starts every message.
inline constexpr uint32_t header_size = 7;
// The fixed part of a Twrite: size[4] type[1] tag[2] fid[4] offset[8] count[4], then the data.
inline constexpr uint32_t twrite_header_size = header_size + 4 + 8 + 4;
// A whole Tread: size[4] type[1] tag[2] fid[4] offset[8] count[4].
inline constexpr uint32_t tread_size = header_size + 4 + 8 + 4;
// The fixed part of an Rread: size[4] type[1] tag[2] count[4], then the data.
inline constexpr uint32_t rread_header_size = header_size + 4;
// Names a Twalk may carry (P9_MAXWELEM).
inline constexpr uint16_t max_walk_names = 16;
// Smallest msize worth negotiating: a header plus a useful payload (Linux asks ≥ 4096).
inline constexpr uint32_t min_msize = 4096;
// Longest name component accepted (NAME_MAX).
inline constexpr uint32_t max_name_length = 255;
// Longest symlink target accepted (PATH_MAX - 1).
inline constexpr uint32_t max_symlink_target = 4095;

// Message types (T = request, R = reply = T + 1).
namespace message {
    inline constexpr uint8_t rlerror = 7;
    inline constexpr uint8_t tstatfs = 8;
    inline constexpr uint8_t tlopen = 12;
    inline constexpr uint8_t tlcreate = 14;
    inline constexpr uint8_t tsymlink = 16;
    inline constexpr uint8_t tmknod = 18;
    inline constexpr uint8_t trename = 20;
    inline constexpr uint8_t treadlink = 22;
    inline constexpr uint8_t tgetattr = 24;
    inline constexpr uint8_t tsetattr = 26;
    inline constexpr uint8_t txattrwalk = 30;
    inline constexpr uint8_t txattrcreate = 32;
    inline constexpr uint8_t treaddir = 40;
    inline constexpr uint8_t tfsync = 50;
    inline constexpr uint8_t tlock = 52;
    inline constexpr uint8_t tgetlock = 54;
    inline constexpr uint8_t tlink = 70;
    inline constexpr uint8_t tmkdir = 72;
    inline constexpr uint8_t trenameat = 74;
    inline constexpr uint8_t tunlinkat = 76;
    inline constexpr uint8_t tversion = 100;
    inline constexpr uint8_t tauth = 102;
    inline constexpr uint8_t tattach = 104;
    inline constexpr uint8_t tflush = 108;
    inline constexpr uint8_t twalk = 110;
    inline constexpr uint8_t tread = 116;
    inline constexpr uint8_t twrite = 118;
    inline constexpr uint8_t tclunk = 120;
    inline constexpr uint8_t tremove = 122;
    constexpr uint8_t reply_to(uint8_t request) { return static_cast<uint8_t>(request + 1); }
} // namespace message

// qid.type bits.
namespace qid_type {
    inline constexpr uint8_t directory = 0x80;
    inline constexpr uint8_t symlink = 0x02;
    inline constexpr uint8_t file = 0x00;
} // namespace qid_type

// Tgetattr request_mask / Rgetattr valid bits.
namespace getattr {
    inline constexpr uint64_t basic = 0x000007ffull; // mode ... blocks
} // namespace getattr

// Tsetattr valid bits.
namespace setattr {
    inline constexpr uint32_t mode = 0x001;
    inline constexpr uint32_t uid = 0x002;
    inline constexpr uint32_t gid = 0x004;
    inline constexpr uint32_t size = 0x008;
    inline constexpr uint32_t atime = 0x010;
    inline constexpr uint32_t mtime = 0x020;
    inline constexpr uint32_t ctime = 0x040;
    inline constexpr uint32_t atime_set = 0x080;
    inline constexpr uint32_t mtime_set = 0x100;
} // namespace setattr

// Tlopen / Tlcreate flags (the Linux generic values, P9_DOTL_*).
namespace open_flag {
    inline constexpr uint32_t access_mask = 03;
    inline constexpr uint32_t write_only = 01;
    inline constexpr uint32_t read_write = 02;
    inline constexpr uint32_t create = 0100;
    inline constexpr uint32_t exclusive = 0200;
    inline constexpr uint32_t truncate = 01000;
    inline constexpr uint32_t append = 02000;
    inline constexpr uint32_t nonblock = 04000;
    inline constexpr uint32_t dsync = 010000;
    inline constexpr uint32_t sync = 04000000;
} // namespace open_flag

// Tunlinkat flags.
inline constexpr uint32_t unlink_remove_dir = 0x200; // AT_REMOVEDIR

// Tlock status / Tgetlock type values.
namespace lock {
    inline constexpr uint8_t status_success = 0;
    inline constexpr uint8_t type_unlocked = 2;
} // namespace lock

// virtio-9p: feature bits and config space (virtio 1.2 §5.11.3, §5.11.4).
namespace feature {
    inline constexpr unsigned mount_tag = 0;
} // namespace feature
// The config space is tag_len[2] followed by the tag's bytes (no NUL).
inline constexpr uint32_t max_tag_length = 64; // what husk accepts; the spec allows up to 65535

} // namespace husk::p9

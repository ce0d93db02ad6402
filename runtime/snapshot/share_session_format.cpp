// The virtio-9p fields of a VIRT section: written and read back field by field.
#include "runtime/snapshot/share_session_format.hpp"

#include "runtime/snapshot/snapshot_format.hpp"
#include "virtio/p9/p9_spec.hpp"

#include <string_view>

namespace husk {

namespace fmt = snapshot_format;

namespace {
    bool is_tag_character(char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    // "" or names joined by single '/': no leading, trailing or doubled '/', no "." or "..",
    // no NUL. A path of another shape never came from ShareServer.
    bool is_share_relative_path(std::string_view path)
    {
        if (path.empty())
            return true;
        size_t start = 0;
        while (true) {
            size_t end = path.find('/', start);
            auto name = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
            if (name.empty() || name == "." || name == ".." || name.size() > 255
                || name.find('\0') != std::string_view::npos)
                return false;
            if (end == std::string_view::npos)
                return true;
            start = end + 1;
        }
    }

    std::string fid_error(uint32_t fid, std::string const& what)
    {
        return "snapshot: virtio-9p fid " + std::to_string(fid) + " " + what;
    }

    Result<SavedShareFid> get_fid(StateDecoder& in)
    {
        SavedShareFid fid;
        fid.fid = TRY(in.u32("9p fid number"));
        fid.path = TRY(in.string("9p fid path", fmt::max_share_path));
        fid.uid = TRY(in.u32("9p fid uid"));
        fid.qid_type = TRY(in.u8("9p fid type"));
        auto state = TRY(in.u8("9p fid state"));
        fid.open_flags = TRY(in.u32("9p fid open flags"));
        if (!is_share_relative_path(fid.path))
            return fail(fid_error(fid.fid, "has a path that is not relative to its share"));
        if (fid.qid_type != p9::qid_type::directory && fid.qid_type != p9::qid_type::symlink
            && fid.qid_type != p9::qid_type::file)
            return fail(fid_error(fid.fid, "has the unknown type " + std::to_string(fid.qid_type)));
        if (state > static_cast<uint8_t>(SavedFidState::Open))
            return fail(fid_error(fid.fid, "has the unknown state " + std::to_string(state)));
        fid.state = static_cast<SavedFidState>(state);
        if (fid.state != SavedFidState::Open) {
            if (fid.open_flags != 0)
                return fail(fid_error(fid.fid, "is not open but has open flags"));
            return fid;
        }
        if (fid.qid_type == p9::qid_type::symlink)
            return fail(fid_error(fid.fid, "is an open symlink"));
        if ((fid.open_flags & ~saved_open_flags_mask) != 0 || (fid.open_flags & O_ACCMODE) == O_ACCMODE)
            return fail(fid_error(fid.fid, "has impossible open flags " + std::to_string(fid.open_flags)));
        if (fid.qid_type == p9::qid_type::directory && fid.open_flags != O_RDONLY)
            return fail(fid_error(fid.fid, "is a directory open for writing"));
        return fid;
    }
} // namespace

void put_share_slot(StateEncoder& out, VirtioSlotSnapshot const& slot)
{
    out.string(slot.share_tag);
    out.boolean(slot.share_read_only);
    out.boolean(slot.share_guest_owners);
    auto const& session = slot.share_session;
    out.u32(session.msize);
    out.u32(static_cast<uint32_t>(session.fids.size()));
    for (auto const& fid : session.fids) {
        out.u32(fid.fid);
        out.string(fid.path);
        out.u32(fid.uid);
        out.u8(fid.qid_type);
        out.u8(static_cast<uint8_t>(fid.state));
        out.u32(fid.open_flags);
    }
}

Result<void> get_share_slot(StateDecoder& in, VirtioSlotSnapshot& slot)
{
    slot.share_tag = TRY(in.string("9p share tag", fmt::max_share_tag));
    if (slot.share_tag.empty())
        return fail("snapshot: a virtio-9p slot has an empty tag");
    for (char c : slot.share_tag) {
        if (!is_tag_character(c))
            return fail("snapshot: a virtio-9p tag holds a character other than [A-Za-z0-9_-]");
    }
    slot.share_read_only = TRY(in.boolean("9p share read_only"));
    slot.share_guest_owners = TRY(in.boolean("9p share guest_owners"));
    auto& session = slot.share_session;
    session.msize = TRY(in.u32("9p msize"));
    if (session.msize < fmt::min_share_msize || session.msize > fmt::max_share_msize)
        return fail("snapshot: the virtio-9p share " + slot.share_tag + " has an msize of "
            + std::to_string(session.msize) + "; " + std::to_string(fmt::min_share_msize) + " to "
            + std::to_string(fmt::max_share_msize) + " allowed");
    auto count = TRY(in.u32("9p fid count"));
    if (count > fmt::max_share_fids)
        return fail("snapshot: the virtio-9p share " + slot.share_tag + " has " + std::to_string(count)
            + " fids, at most " + std::to_string(fmt::max_share_fids) + " allowed");
    for (uint32_t i = 0; i < count; ++i) {
        auto fid = TRY(get_fid(in));
        if (!session.fids.empty() && fid.fid <= session.fids.back().fid)
            return fail(fid_error(fid.fid, "is out of order or listed twice"));
        if (slot.share_read_only && (fid.open_flags & O_ACCMODE) != O_RDONLY)
            return fail(fid_error(fid.fid, "is open for writing on a read-only share"));
        session.fids.push_back(std::move(fid));
    }
    return {};
}

} // namespace husk

// Sandbox file operations: each is one correlation id; writes go out in protocol-sized chunks and
// end with the agent's Ack, reads stream FileData chunks until eof.
#include "husk/sandbox.hpp"

#include "guest-init/protocol/limits.hpp"
#include "sdk/src/sandbox_state.hpp"

namespace husk {

using namespace husk::protocol;
using namespace std::chrono_literals;

namespace {

    // How long one file request may wait for its next reply.
    constexpr auto reply_timeout = 60s;

    Result<void> check_path(std::string const& path)
    {
        if (path.empty() || path[0] != '/')
            return fail(ErrorKind::BadConfig, "guest paths must be absolute: '" + path + "'");
        if (path.size() > max_path_size)
            return fail(ErrorKind::BadConfig, "guest path too long");
        return {};
    }

    std::chrono::steady_clock::time_point next_deadline() { return std::chrono::steady_clock::now() + reply_timeout; }

    // A reply that must be Ack (or an ErrorReply, which becomes a Guest error).
    Result<void> expect_ack(Result<Message> reply, std::string const& what)
    {
        if (!reply)
            return unexpected(std::move(reply).error());
        if (std::holds_alternative<Ack>(*reply))
            return {};
        if (auto* error = std::get_if<ErrorReply>(&*reply))
            return fail(ErrorKind::Guest, what + ": " + error->message);
        return fail(ErrorKind::AgentDisconnected,
            what + ": unexpected " + std::string(message_type_name(message_type(*reply))) + " from the agent");
    }

    // Runs one request: registers a reply queue, sends `first`, then `more` (further chunks).
    struct Request {
        std::shared_ptr<detail::AgentClient> client;
        std::shared_ptr<detail::ReplyOperation> operation { std::make_shared<detail::ReplyOperation>(
            detail::is_final_reply) };
        uint32_t id { 0 };

        Result<void> begin(Message const& first)
        {
            id = TRY(client->begin(operation, first));
            return {};
        }
        Result<Message> next() { return operation->next(next_deadline()); }
        ~Request()
        {
            if (id != 0)
                client->forget(id);
        }
    };

} // namespace

Result<void> Sandbox::write_file(std::string const& path, std::span<uint8_t const> data, uint32_t mode)
{
    TRY(check_path(path));
    if (mode > max_file_mode)
        return fail(ErrorKind::BadConfig, "invalid file mode");
    Request request { m_state->client };
    uint64_t offset = 0;
    do {
        auto chunk = data.first(std::min<size_t>(data.size(), max_chunk_size));
        data = data.subspan(chunk.size());
        FileWrite write { path, mode, offset, std::vector<uint8_t>(chunk.begin(), chunk.end()), data.empty() };
        if (offset == 0)
            TRY(request.begin(write));
        else
            TRY(m_state->client->send(request.id, write));
        offset += chunk.size();
    } while (!data.empty());
    return expect_ack(request.next(), "write " + path);
}

Result<void> Sandbox::write_file(std::string const& path, std::string_view data, uint32_t mode)
{
    return write_file(path, std::span<uint8_t const>(reinterpret_cast<uint8_t const*>(data.data()), data.size()), mode);
}

Result<void> Sandbox::write_file(std::string const& path, FileSource const& source, uint32_t mode)
{
    TRY(check_path(path));
    if (mode > max_file_mode)
        return fail(ErrorKind::BadConfig, "invalid file mode");
    Request request { m_state->client };
    std::vector<uint8_t> buffer(max_chunk_size);
    uint64_t offset = 0;
    // Each chunk goes out as soon as it is read; the end is an empty last chunk, as the source
    // cannot say in advance which chunk is its last.
    for (bool last = false; !last;) {
        auto filled = source(std::span<uint8_t>(buffer));
        if (filled && *filled > buffer.size())
            filled = fail(ErrorKind::BadConfig, "the source said it filled more than its buffer");
        if (!filled) {
            if (request.id != 0) { // the agent holds the file open: end it, then take it away
                (void)m_state->client->send(request.id, FileWrite { path, mode, offset, {}, true });
                (void)request.next();
                (void)remove(path);
            }
            return unexpected(Error { "write " + path + ": " + filled.error().message, filled.error().errno_value,
                filled.error().kind });
        }
        size_t size = *filled;
        last = size == 0;
        FileWrite write { path, mode, offset, std::vector<uint8_t>(buffer.begin(), buffer.begin() + size), last };
        if (request.id == 0)
            TRY(request.begin(write));
        else
            TRY(m_state->client->send(request.id, write));
        offset += size;
    }
    return expect_ack(request.next(), "write " + path);
}

Result<void> Sandbox::read_file(std::string const& path, std::function<void(std::span<uint8_t const>)> sink)
{
    TRY(check_path(path));
    Request request { m_state->client };
    TRY(request.begin(FileRead { path, 0, max_chunk_size }));
    for (;;) {
        auto reply = TRY(request.next());
        if (auto* data = std::get_if<FileData>(&reply)) {
            if (!data->data.empty())
                sink(std::span<uint8_t const>(data->data));
            if (data->eof)
                return {};
            continue;
        }
        if (auto* error = std::get_if<ErrorReply>(&reply))
            return fail(ErrorKind::Guest, "read " + path + ": " + error->message);
        return fail(ErrorKind::AgentDisconnected,
            "read " + path + ": unexpected " + std::string(message_type_name(message_type(reply))) + " from the agent");
    }
}

Result<std::string> Sandbox::read_file(std::string const& path, uint64_t max_size)
{
    std::string contents;
    bool too_big = false;
    TRY(read_file(path, [&](std::span<uint8_t const> chunk) {
        if (too_big || contents.size() + chunk.size() > max_size) {
            too_big = true;
            return;
        }
        contents.append(chunk.begin(), chunk.end());
    }));
    if (too_big)
        return fail(
            ErrorKind::BadConfig, "read " + path + ": larger than the " + std::to_string(max_size) + "-byte limit");
    return contents;
}

Result<FileInfo> Sandbox::stat(std::string const& path)
{
    TRY(check_path(path));
    Request request { m_state->client };
    TRY(request.begin(Stat { path }));
    auto reply = TRY(request.next());
    if (auto* error = std::get_if<ErrorReply>(&reply))
        return fail(ErrorKind::Guest, "stat " + path + ": " + error->message);
    auto* info = std::get_if<StatReply>(&reply);
    if (!info)
        return fail(ErrorKind::AgentDisconnected, "stat " + path + ": unexpected reply from the agent");
    static constexpr FileType types[]
        = { FileType::Other, FileType::Regular, FileType::Directory, FileType::Symlink, FileType::Other };
    auto kind = static_cast<size_t>(info->kind);
    return FileInfo { kind < std::size(types) ? types[kind] : FileType::Other, info->size, info->mode,
        std::chrono::nanoseconds(info->mtime_ns) };
}

Result<void> Sandbox::mkdir(std::string const& path, Parents parents, uint32_t mode)
{
    TRY(check_path(path));
    if (mode > max_file_mode)
        return fail(ErrorKind::BadConfig, "invalid directory mode");
    Request request { m_state->client };
    TRY(request.begin(Mkdir { path, mode, parents == Parents::Create }));
    return expect_ack(request.next(), "mkdir " + path);
}

Result<void> Sandbox::remove(std::string const& path, Recursive recursive)
{
    TRY(check_path(path));
    Request request { m_state->client };
    TRY(request.begin(Remove { path, recursive == Recursive::Yes }));
    return expect_ack(request.next(), "remove " + path);
}

} // namespace husk

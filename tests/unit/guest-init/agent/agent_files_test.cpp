// AgentServer file requests over a socketpair: uploads and downloads of 0 B, 1 B and 5 MiB with
// matching content, Stat, Mkdir and Remove with their error codes.
#include "tests/unit/guest-init/agent/agent_test_client.hpp"

#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace husk::agent::testing {
namespace {

    std::vector<uint8_t> pattern_bytes(size_t size)
    {
        std::vector<uint8_t> bytes(size);
        for (size_t i = 0; i < size; ++i)
            bytes[i] = static_cast<uint8_t>((i * 131) ^ (i >> 11));
        return bytes;
    }

    std::vector<uint8_t> read_local(std::string const& path)
    {
        std::ifstream file(path, std::ios::binary);
        return std::vector<uint8_t>(std::istreambuf_iterator<char>(file), {});
    }

    // Uploads in max_chunk_size chunks under one id; returns the final reply.
    std::optional<Received> upload(TestClient& client, uint32_t id, std::string const& path,
        std::vector<uint8_t> const& data, uint32_t mode = 0644)
    {
        size_t at = 0;
        do {
            size_t size = std::min<size_t>(max_chunk_size, data.size() - at);
            FileWrite chunk { path, mode, at, std::vector<uint8_t>(data.begin() + at, data.begin() + at + size),
                at + size == data.size() };
            client.send(id, chunk);
            at += size;
        } while (at < data.size());
        return client.receive(id);
    }

    struct Download {
        std::vector<uint8_t> data;
        size_t chunks { 0 };
        bool eof { false };
        std::optional<ErrorReply> error;
    };

    Download download(TestClient& client, uint32_t id, std::string const& path, uint32_t max_size = max_chunk_size)
    {
        client.send(id, FileRead { path, 0, max_size });
        Download result;
        while (auto received = client.receive(id)) {
            if (auto* error = std::get_if<ErrorReply>(&received->message)) {
                result.error = *error;
                break;
            }
            auto const& chunk = std::get<FileData>(received->message);
            EXPECT_LE(chunk.data.size(), max_size);
            result.data.insert(result.data.end(), chunk.data.begin(), chunk.data.end());
            ++result.chunks;
            if (chunk.eof) {
                result.eof = true;
                break;
            }
        }
        return result;
    }

    ErrorCode error_code(std::optional<Received> const& received)
    {
        EXPECT_TRUE(received);
        auto const* error = received ? std::get_if<ErrorReply>(&received->message) : nullptr;
        EXPECT_NE(error, nullptr);
        return error ? error->code : ErrorCode::Internal;
    }

    bool is_ack(std::optional<Received> const& received)
    {
        return received && std::holds_alternative<Ack>(received->message);
    }

    class AgentFiles : public AgentServerTest {
    protected:
        void round_trip(size_t size)
        {
            auto& client = connect();
            start();
            auto data = pattern_bytes(size);
            auto path = temp / ("file-" + std::to_string(size));

            auto written = upload(client, 1, path, data, 0640);
            auto read = download(client, 2, path);

            EXPECT_TRUE(is_ack(written));
            EXPECT_EQ(read_local(path), data);
            EXPECT_EQ(read.data, data);
            EXPECT_TRUE(read.eof);
            struct stat info;
            ASSERT_EQ(stat(path.c_str(), &info), 0);
            EXPECT_EQ(info.st_mode & 07777, 0640u);
        }
    };

    TEST_F(AgentFiles, EmptyFile_RoundTrips) { round_trip(0); }
    TEST_F(AgentFiles, OneByteFile_RoundTrips) { round_trip(1); }
    TEST_F(AgentFiles, FiveMebibyteFile_RoundTrips) { round_trip(5 * 1024 * 1024); }

    TEST_F(AgentFiles, SmallMaxSize_SplitsTheDownload)
    {
        auto& client = connect();
        start();
        auto data = pattern_bytes(10'000);
        std::ofstream(temp / "f", std::ios::binary).write(reinterpret_cast<char const*>(data.data()), data.size());

        auto read = download(client, 1, temp / "f", 4096);

        EXPECT_EQ(read.data, data);
        EXPECT_EQ(read.chunks, 3u); // 4096 + 4096 + 1808 with eof
    }

    TEST_F(AgentFiles, UploadOverExistingFile_Truncates)
    {
        auto& client = connect();
        start();
        std::ofstream(temp / "f") << "a much longer old content";

        auto written = upload(client, 1, temp / "f", { 'n', 'e', 'w' });

        EXPECT_TRUE(is_ack(written));
        EXPECT_EQ(read_local(temp / "f"), (std::vector<uint8_t> { 'n', 'e', 'w' }));
    }

    TEST_F(AgentFiles, UploadIntoMissingDirectory_IsNotFoundOnce)
    {
        auto& client = connect();
        start();

        client.send(1, FileWrite { temp / "no/such/file", 0644, 0, { 1, 2 }, false });
        client.send(1, FileWrite { temp / "no/such/file", 0644, 2, { 3 }, true });
        client.send(0, Ping { 1 });

        EXPECT_EQ(error_code(client.receive(1)), ErrorCode::NotFound);
        ASSERT_TRUE(client.receive(0)); // the Pong: the second chunk drew no reply of its own
        EXPECT_FALSE(client.receive(1, 100ms));
    }

    TEST_F(AgentFiles, ReadMissingOrDirectory_AreErrors)
    {
        auto& client = connect();
        start();

        auto missing = download(client, 1, temp / "missing");
        auto directory = download(client, 2, temp.path());

        ASSERT_TRUE(missing.error);
        EXPECT_EQ(missing.error->code, ErrorCode::NotFound);
        ASSERT_TRUE(directory.error);
        EXPECT_EQ(directory.error->code, ErrorCode::IsADirectory);
    }

    TEST_F(AgentFiles, Stat_ReportsKindSizeAndMode)
    {
        auto& client = connect();
        start();
        std::ofstream(temp / "f") << "12345";
        chmod((temp / "f").c_str(), 0600);
        std::filesystem::create_symlink("f", temp / "link");

        client.send(1, Stat { temp / "f" });
        client.send(2, Stat { temp / "link" });
        client.send(3, Stat { temp.path() });
        client.send(4, Stat { temp / "missing" });
        auto file = client.receive(1);
        auto link = client.receive(2);
        auto directory = client.receive(3);

        ASSERT_TRUE(file && link && directory);
        auto const& file_stat = std::get<StatReply>(file->message);
        EXPECT_EQ(file_stat.kind, FileKind::Regular);
        EXPECT_EQ(file_stat.size, 5u);
        EXPECT_EQ(file_stat.mode, 0600u);
        EXPECT_GT(file_stat.mtime_ns, 0);
        EXPECT_EQ(std::get<StatReply>(link->message).kind, FileKind::Symlink);
        EXPECT_EQ(std::get<StatReply>(directory->message).kind, FileKind::Directory);
        EXPECT_EQ(error_code(client.receive(4)), ErrorCode::NotFound);
    }

    TEST_F(AgentFiles, Mkdir_CreatesWithParentsAndReportsConflicts)
    {
        auto& client = connect();
        start();

        client.send(1, Mkdir { temp / "a/b/c", 0700, true });
        auto with_parents = client.receive(1);
        client.send(2, Mkdir { temp / "x/y", 0755, false });
        auto without_parents = client.receive(2);
        client.send(3, Mkdir { temp / "a", 0755, false });
        auto existing = client.receive(3);
        client.send(4, Mkdir { temp / "a/b", 0755, true });
        auto existing_with_parents = client.receive(4);

        EXPECT_TRUE(is_ack(with_parents));
        struct stat info;
        ASSERT_EQ(stat((temp / "a/b/c").c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 07777, 0700u);
        EXPECT_EQ(error_code(without_parents), ErrorCode::NotFound);
        EXPECT_EQ(error_code(existing), ErrorCode::AlreadyExists);
        EXPECT_TRUE(is_ack(existing_with_parents));
    }

    TEST_F(AgentFiles, Remove_HandlesFilesTreesAndSymlinksWithoutFollowing)
    {
        auto& client = connect();
        start();
        std::filesystem::create_directories(temp / "tree/sub");
        std::filesystem::create_directories(temp / "outside");
        std::ofstream(temp / "tree/sub/f") << "x";
        std::ofstream(temp / "outside/keep") << "x";
        std::filesystem::create_directory_symlink(temp / "outside", temp / "tree/link");

        client.send(1, Remove { temp / "tree", false });
        auto not_recursive = client.receive(1);
        client.send(2, Remove { temp / "tree/", true });
        auto recursive = client.receive(2);
        client.send(3, Remove { temp / "tree", false });
        auto missing = client.receive(3);
        client.send(4, Remove { "/", true });
        auto root = client.receive(4);

        EXPECT_EQ(error_code(not_recursive), ErrorCode::NotEmpty);
        EXPECT_TRUE(is_ack(recursive));
        EXPECT_FALSE(std::filesystem::exists(temp / "tree"));
        EXPECT_TRUE(std::filesystem::exists(temp / "outside/keep"));
        EXPECT_EQ(error_code(missing), ErrorCode::NotFound);
        EXPECT_EQ(error_code(root), ErrorCode::InvalidArgument);
    }

} // namespace
} // namespace husk::agent::testing

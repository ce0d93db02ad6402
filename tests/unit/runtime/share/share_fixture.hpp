// ShareServerTest: a temporary tree with the shared directory and, beside it, an "outside"
// directory holding a secret the guest must never reach; a ShareServer on the share and a
// P9TestClient attached to it (fid 0 = the root).
#pragma once

#include "runtime/share/share_server.hpp"
#include "tests/unit/runtime/share/p9_test_client.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::testing {

class ShareServerTest : public ::testing::Test {
protected:
    void SetUp() override { make_tree(); }
    void TearDown() override
    {
        client.reset();
        server.reset();
        std::error_code ignored;
        std::filesystem::remove_all(top, ignored);
    }

    void make_tree()
    {
        std::string pattern = ::testing::TempDir() + "husk-share-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        top = pattern;
        share = top + "/share";
        outside = top + "/outside";
        std::filesystem::create_directories(share);
        std::filesystem::create_directories(outside);
        put(outside + "/secret", "outside secret");
        put(share + "/hello.txt", "hello from the host");
    }

    void serve(ShareAccess access = ShareAccess::ReadWrite, ShareOwnership ownership = ShareOwnership::ServerUser)
    {
        auto root = ShareRoot::open(share, access, { ::geteuid(), ::getegid() }, ownership);
        ASSERT_TRUE(root) << root.error().message;
        server = std::make_unique<ShareServer>(std::move(root).value());
        client = std::make_unique<P9TestClient>(*server);
        client->attach();
    }

    static void put(std::string const& path, std::string const& text) { std::ofstream(path) << text; }
    static std::string contents(std::string const& path)
    {
        std::ifstream in(path);
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }
    static bool exists(std::string const& path)
    {
        struct stat st { };
        return ::lstat(path.c_str(), &st) == 0;
    }

    std::string top;
    std::string share;
    std::string outside;
    std::unique_ptr<ShareServer> server;
    std::unique_ptr<P9TestClient> client;
};

} // namespace husk::testing

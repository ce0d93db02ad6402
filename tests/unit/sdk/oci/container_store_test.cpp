// Container ids, state.json and the state directories under --root.
#include "sdk/oci/container_id.hpp"
#include "sdk/oci/container_store.hpp"

#include "tests/unit/testing/scratch_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::oci {
namespace {

    ContainerRecord sample(std::string id)
    {
        ContainerRecord record;
        record.id = std::move(id);
        record.bundle = "/bundles/b";
        record.rootfs = "/bundles/b/rootfs";
        record.pid = getpid();
        record.pid_start_time = process_start_time(getpid()).value_or(0);
        record.status = ContainerStatus::Created;
        record.created = "2026-12-06T14:03:08.000000001Z";
        record.annotations = { { "a", "b" } };
        return record;
    }

} // namespace

TEST(ContainerId, AcceptsRuncIdsAndRefusesPathTricks)
{
    EXPECT_TRUE(validate_container_id("abc"));
    EXPECT_TRUE(validate_container_id(std::string(64, 'f')));
    EXPECT_TRUE(validate_container_id("my_box-1.2+x"));
    for (auto const* bad : { "", ".", "..", ".hidden", "a/b", "../etc", "a b", "a\nb", "ü", "a:b", "/abs" })
        EXPECT_FALSE(validate_container_id(bad)) << bad;
    EXPECT_FALSE(validate_container_id(std::string(129, 'a')));
    EXPECT_FALSE(validate_container_id(std::string("a\0b", 3)));
}

TEST(ContainerState, RoundTripsAndRefusesDamagedRecords)
{
    auto record = sample("box");
    auto parsed = parse_record(record_to_json(record));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    EXPECT_EQ(parsed->id, "box");
    EXPECT_EQ(parsed->bundle, record.bundle);
    EXPECT_EQ(parsed->pid, record.pid);
    EXPECT_EQ(parsed->pid_start_time, record.pid_start_time);
    EXPECT_EQ(parsed->status, ContainerStatus::Created);
    EXPECT_EQ(parsed->annotations, record.annotations);

    EXPECT_FALSE(parse_record(""));
    EXPECT_FALSE(parse_record("{}"));
    auto json = record_to_json(record);
    auto without = [&](std::string const& key) {
        auto document = nlohmann::json::parse(json);
        document.erase(key);
        return document.dump();
    };
    for (auto const* key : { "id", "bundle", "rootfs", "pid", "pid_start_time", "status", "created" })
        EXPECT_FALSE(parse_record(without(key))) << key;
    auto bad_status = nlohmann::json::parse(json);
    bad_status["status"] = "paused";
    EXPECT_EQ(parse_record(bad_status.dump()).error().message, "state.json: status: unknown \"paused\"");
    auto negative_pid = nlohmann::json::parse(json);
    negative_pid["pid"] = -5;
    EXPECT_FALSE(parse_record(negative_pid.dump()));
}

TEST(ContainerState, OciStateHasTheSpecFields)
{
    auto record = sample("box");
    auto state = nlohmann::json::parse(oci_state_json(record, ContainerStatus::Running));
    EXPECT_EQ(state["ociVersion"], "1.0.2");
    EXPECT_EQ(state["id"], "box");
    EXPECT_EQ(state["status"], "running");
    EXPECT_EQ(state["pid"], record.pid);
    EXPECT_EQ(state["bundle"], "/bundles/b");
    EXPECT_EQ(state["rootfs"], "/bundles/b/rootfs");
    EXPECT_EQ(state["created"], record.created);
    EXPECT_EQ(state["owner"], "");
    EXPECT_EQ(state["annotations"]["a"], "b");
    state = nlohmann::json::parse(oci_state_json(record, ContainerStatus::Stopped));
    EXPECT_EQ(state["pid"], 0) << "a stopped container has no pid, as with runc";
    auto now = rfc3339_now();
    EXPECT_EQ(now.size(), 30u) << now;
    EXPECT_EQ(now.back(), 'Z');
}

TEST(ContainerStore, CreatesOneDirectoryPerContainerAndWritesAtomically)
{
    test_support::ScratchDir scratch("oci-store");
    ContainerStore store(scratch / "root/");
    EXPECT_EQ(store.root(), scratch / "root");
    auto directory = store.create_directory("box");
    ASSERT_TRUE(directory.has_value()) << directory.error().message;
    EXPECT_EQ(*directory, scratch / "root/box");
    struct stat info {};
    ASSERT_EQ(stat(directory->c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    auto again = store.create_directory("box");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().message, "container with id exists: box");
    EXPECT_FALSE(store.create_directory("../escape"));
    EXPECT_FALSE(std::filesystem::exists(scratch / "escape"));

    EXPECT_EQ(store.read("box").error().message, "container does not exist: box");
    EXPECT_EQ(store.read("nothere").error().message, "container does not exist: nothere");
    ASSERT_TRUE(store.write(sample("box")));
    EXPECT_FALSE(std::filesystem::exists(*directory + "/state.json.tmp"));
    auto read = store.read("box");
    ASSERT_TRUE(read.has_value()) << read.error().message;
    EXPECT_EQ(ContainerStore::live_status(*read), ContainerStatus::Created) << "this process is alive";
    EXPECT_EQ(store.list(), std::vector<std::string> { "box" });

    // A record naming another container (a copied directory) is refused.
    std::filesystem::create_directory(scratch / "root/copy");
    std::filesystem::copy_file(*directory + "/state.json", scratch / "root/copy/state.json");
    EXPECT_EQ(store.read("copy").error().message,
        scratch / "root/copy/state.json" + ": records container \"box\", not \"copy\"");

    ASSERT_TRUE(store.remove("box"));
    EXPECT_FALSE(std::filesystem::exists(*directory));
}

TEST(ContainerStore, DeadOrRecycledMonitorsMeanStopped)
{
    auto record = sample("box");
    record.pid_start_time += 1; // same pid, another process
    EXPECT_EQ(ContainerStore::live_status(record), ContainerStatus::Stopped);

    pid_t child = fork();
    if (child == 0)
        _exit(0);
    auto zombie = sample("z");
    zombie.pid = child;
    zombie.pid_start_time = 0;
    // Before reaping: a zombie counts as stopped, whatever its start time.
    for (int i = 0; i < 100 && process_start_time(child); ++i)
        usleep(10000);
    EXPECT_FALSE(process_start_time(child));
    EXPECT_EQ(ContainerStore::live_status(zombie), ContainerStatus::Stopped);
    waitpid(child, nullptr, 0);
    EXPECT_FALSE(process_start_time(-1));
    EXPECT_FALSE(process_start_time(0));
}

} // namespace husk::oci

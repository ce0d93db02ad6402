// husk command-line parsing: accepted forms, defaults, and one clear line for each mistake.
#include "sdk/cli/cli_options.hpp"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

namespace husk::cli {
namespace {

    using namespace std::chrono_literals;

    Result<Command> parse(std::vector<std::string> arguments)
    {
        arguments.insert(arguments.begin(), "husk");
        return parse_command_line(arguments);
    }

    std::string error_of(std::vector<std::string> arguments)
    {
        auto parsed = parse(std::move(arguments));
        EXPECT_FALSE(parsed);
        return parsed ? "" : parsed.error().message;
    }

    TEST(CliOptions, RunWithEverything_FillsTheOptions)
    {
        setenv("HUSK_TEST_COPIED", "from-host", 1);
        auto parsed = parse({ "run", "--vcpus", "2", "--memory", "1G", "-e", "A=1", "--env", "HUSK_TEST_COPIED",
            "--workdir", "/tmp", "--timeout", "1500ms", "--json", "-q", "--", "sh", "-c", "echo -- $A" });

        ASSERT_TRUE(parsed) << parsed.error().message;
        ASSERT_EQ(parsed->kind, CommandKind::Run);
        auto const& run = parsed->run;
        EXPECT_EQ(run.sandbox.vcpus, 2u);
        EXPECT_EQ(run.sandbox.memory_bytes, 1ull << 30);
        EXPECT_EQ(run.job.env, (std::vector<std::string> { "A=1", "HUSK_TEST_COPIED=from-host" }));
        EXPECT_EQ(run.job.workdir, "/tmp");
        EXPECT_EQ(run.job.timeout, 1500ms);
        EXPECT_TRUE(run.json);
        EXPECT_TRUE(run.quiet);
        EXPECT_EQ(run.argv, (std::vector<std::string> { "sh", "-c", "echo -- $A" }));
    }

    TEST(CliOptions, Verbose_IsParsedAndRefusedWithQuiet)
    {
        auto parsed = parse({ "run", "--verbose", "--", "true" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_TRUE(parsed->run.verbose);
        EXPECT_FALSE(parse({ "run", "--", "true" })->run.verbose);
        EXPECT_NE(error_of({ "run", "-q", "--verbose", "--", "true" }).find("cannot go together"), std::string::npos);
    }

    TEST(CliOptions, Volumes_DockerSpelling_BecomeMounts)
    {
        auto parsed = parse(
            { "run", "-v", "/srv/in:/in:ro", "--volume", "/srv/a:b:/out", "-v", "/srv/x/:/x:rw", "--", "true" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        auto const& mounts = parsed->run.sandbox.mounts;
        ASSERT_EQ(mounts.size(), 3u);
        EXPECT_EQ(mounts[0].host, "/srv/in");
        EXPECT_EQ(mounts[0].guest, "/in");
        EXPECT_TRUE(mounts[0].read_only);
        EXPECT_EQ(mounts[1].host, "/srv/a:b");
        EXPECT_EQ(mounts[1].guest, "/out");
        EXPECT_FALSE(mounts[1].read_only);
        EXPECT_EQ(mounts[2].host, "/srv/x");
        EXPECT_FALSE(parsed->run.verbose) << "-v is --volume now, never --verbose";
    }

    TEST(CliOptions, VolumeRelativeHost_IsMadeAbsolute)
    {
        auto mount = parse_volume("data/in:/in");
        ASSERT_TRUE(mount) << mount.error().message;
        EXPECT_EQ(mount->host, (std::filesystem::current_path() / "data/in").string());
    }

    TEST(CliOptions, MalformedVolumes_AreRefusedWithTheExpectedForm)
    {
        for (char const* bad : { "", "/srv", "/srv:", ":/in", "/srv:in", "/srv:in:ro", ":ro" }) {
            auto mount = parse_volume(bad);
            EXPECT_FALSE(mount) << bad;
            if (!mount) {
                EXPECT_NE(mount.error().message.find("HOST:GUEST[:ro]"), std::string::npos) << mount.error().message;
            }
        }
        EXPECT_NE(error_of({ "run", "-v", "/srv", "--", "true" }).find("HOST:GUEST"), std::string::npos);
    }

    TEST(CliOptions, RunWithoutDashDash_StartsTheJobAtTheFirstWord)
    {
        auto parsed = parse({ "run", "-m", "512M", "ls", "-l", "/" });

        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->run.argv, (std::vector<std::string> { "ls", "-l", "/" }));
        EXPECT_EQ(parsed->run.sandbox.memory_bytes, 512ull << 20);
    }

    TEST(CliOptions, RunDefaults_AreOneVcpu256MNoTimeout)
    {
        auto parsed = parse({ "run", "--", "true" });

        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->run.sandbox.vcpus, 1u);
        EXPECT_EQ(parsed->run.sandbox.memory_bytes, 256ull << 20);
        EXPECT_FALSE(parsed->run.job.timeout);
        EXPECT_FALSE(parsed->run.json);
    }

    TEST(CliOptions, BadValues_SayWhichOptionAndWhy)
    {
        EXPECT_NE(error_of({ "run", "--memory", "lots", "--", "true" }).find("--memory"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--memory", "1.5G", "--", "true" }).find("whole numbers"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--timeout", "10x", "--", "true" }).find("--timeout"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--timeout", "0", "--", "true" }).find("more than 0"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--vcpus", "0", "--", "true" }).find("vcpus"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--vcpus", "two", "--", "true" }).find("vcpus"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--workdir", "rel", "--", "true" }).find("absolute"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--env", "=x", "--", "true" }).find("NAME=value"), std::string::npos);
        EXPECT_NE(error_of({ "run" }).find("no command"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--" }).find("no command"), std::string::npos);
        EXPECT_NE(error_of({ "run", "--bogus", "--", "true" }).find("bogus"), std::string::npos);
        EXPECT_NE(error_of({ "frobnicate" }).find("frobnicate"), std::string::npos);
    }

    TEST(CliOptions, UnknownCommand_SaysSoAndPointsToHelp)
    {
        auto message = error_of({ "frobnicate", "--", "true" });
        EXPECT_NE(message.find("unknown command 'frobnicate'"), std::string::npos) << message;
        EXPECT_NE(message.find("husk --help"), std::string::npos) << message;
        // After a flag too, and an unknown flag points to the same help.
        EXPECT_NE(error_of({ "-V", "lunch" }).find("unknown command 'lunch'"), std::string::npos);
        EXPECT_NE(error_of({ "--bogus" }).find("husk --help"), std::string::npos);
        // A misspelt option of run points to run's help.
        EXPECT_NE(error_of({ "run", "--memory" }).find("husk run --help"), std::string::npos);
    }

    TEST(CliOptions, ErrorMessages_AreOneLine)
    {
        for (auto const& message :
            { error_of({ "run", "--memory", "x", "--", "true" }), error_of({ "run" }), error_of({ "run", "--bogus" }) })
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }

    TEST(CliOptions, DoctorVersionAndHelp_AreRecognized)
    {
        EXPECT_EQ(parse({ "doctor" })->kind, CommandKind::Doctor);
        EXPECT_EQ(parse({ "version" })->kind, CommandKind::Version);
        EXPECT_EQ(parse({ "--version" })->kind, CommandKind::Version);
        EXPECT_EQ(parse({ "-V" })->kind, CommandKind::Version);
        auto help = parse({ "--help" });
        ASSERT_TRUE(help);
        EXPECT_EQ(help->kind, CommandKind::Help);
        EXPECT_NE(help->help_text.find("run"), std::string::npos);
        auto run_help = parse({ "run", "--help" });
        ASSERT_TRUE(run_help);
        EXPECT_NE(run_help->help_text.find("--memory"), std::string::npos);
        EXPECT_EQ(parse({})->kind, CommandKind::Help);
    }

    TEST(CliOptions, RootfsIsParsed_AndLeftToTheSandboxToRefuse)
    {
        auto parsed = parse({ "run", "--rootfs", "/img.ext4", "--", "true" });

        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->run.sandbox.rootfs_path, "/img.ext4");
    }

    TEST(CliOptions, RootfsDirectory_IsADirectoryRootReadOnlyOrWritten)
    {
        auto top = std::filesystem::temp_directory_path() / ("husk-cli-rootfs-" + std::to_string(::getpid()));
        std::filesystem::create_directories(top / "root");
        auto root = (top / "root").string();

        auto plain = parse({ "run", "--rootfs", root + "/", "--", "true" });
        auto spelled_ro = parse({ "run", "--rootfs", root + ",ro", "--", "true" });
        auto in_place = parse({ "run", "--rootfs", root + ",rw", "--", "true" });
        auto old_cwd = std::filesystem::current_path();
        std::filesystem::current_path(top);
        auto relative = parse({ "run", "--rootfs", "root,rw", "--", "true" });
        std::filesystem::current_path(old_cwd);
        auto image_flagged = parse({ "run", "--rootfs", "debian-python,rw", "--", "true" });
        std::filesystem::remove_all(top);

        ASSERT_TRUE(plain) << plain.error().message;
        EXPECT_EQ(plain->run.sandbox.rootfs_dir, root);
        EXPECT_TRUE(plain->run.sandbox.rootfs_path.empty());
        EXPECT_EQ(plain->run.sandbox.rootfs_writes, RootfsWrites::Private);
        ASSERT_TRUE(spelled_ro);
        EXPECT_EQ(spelled_ro->run.sandbox.rootfs_writes, RootfsWrites::Private);
        ASSERT_TRUE(in_place);
        EXPECT_EQ(in_place->run.sandbox.rootfs_dir, root);
        EXPECT_EQ(in_place->run.sandbox.rootfs_writes, RootfsWrites::InPlace);
        ASSERT_TRUE(relative) << relative.error().message;
        EXPECT_EQ(relative->run.sandbox.rootfs_dir, root);
        ASSERT_FALSE(image_flagged);
        EXPECT_NE(image_flagged.error().message.find("not one"), std::string::npos) << image_flagged.error().message;
    }

    TEST(CliOptions, From_NamesTheSnapshotToRestore)
    {
        auto parsed = parse({ "run", "--from", "/snapshots/ready", "--", "true" });
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->run.from_snapshot, "/snapshots/ready");
        EXPECT_TRUE(parse({ "run", "--", "true" })->run.from_snapshot.empty());
    }

    TEST(CliOptions, SnapshotCreate_TakesTheDirectoryAndTheVmOptions)
    {
        auto parsed = parse({ "snapshot", "create", "--rootfs", "debian-python", "--memory", "512M", "/snap/dir" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->kind, CommandKind::SnapshotCreate);
        EXPECT_EQ(parsed->snapshot.directory, "/snap/dir");
        EXPECT_EQ(parsed->snapshot.sandbox.rootfs_path, "debian-python");
        EXPECT_EQ(parsed->snapshot.sandbox.memory_bytes, 512ull << 20);
        EXPECT_FALSE(parse({ "snapshot", "create" })); // no directory
        EXPECT_FALSE(parse({ "snapshot" })); // no subcommand
        EXPECT_FALSE(parse({ "snapshot", "create", "--memory", "lots", "/d" }));
    }

    TEST(CliOptions, SnapshotCreate_NetAndDns)
    {
        auto parsed = parse({ "snapshot", "create", "--net", "internet", "--net-dns", "192.0.2.53", "/snap/dir" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->snapshot.sandbox.network, "internet");
        EXPECT_EQ(parsed->snapshot.sandbox.dns_servers, std::vector<std::string> { "192.0.2.53" });
        auto without = parse({ "snapshot", "create", "/snap/dir" });
        ASSERT_TRUE(without) << without.error().message;
        EXPECT_EQ(without->snapshot.sandbox.network, "none");
        EXPECT_FALSE(parse({ "snapshot", "create", "--net", "/snap/dir" })); // the directory became --net's value
        EXPECT_FALSE(parse({ "snapshot", "create", "--publish", "8080:80", "/snap/dir" })); // a clone's own
    }

    TEST(CliOptions, SnapshotCreate_TakesVolumesLikeRun)
    {
        auto parsed = parse({ "snapshot", "create", "-v", "/srv/in:/in:ro", "-v", "/srv/out:/out", "/snap/dir" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        ASSERT_EQ(parsed->snapshot.sandbox.mounts.size(), 2u);
        EXPECT_EQ(parsed->snapshot.sandbox.mounts[0].host, "/srv/in");
        EXPECT_EQ(parsed->snapshot.sandbox.mounts[0].guest, "/in");
        EXPECT_TRUE(parsed->snapshot.sandbox.mounts[0].read_only);
        EXPECT_FALSE(parsed->snapshot.sandbox.mounts[1].read_only);
        EXPECT_FALSE(parse({ "snapshot", "create", "-v", "relative-guest:data", "/d" }));
    }

    TEST(CliOptions, NoJailFlags_LeaveTheJailOnAuto)
    {
        auto parsed = parse({ "run", "--", "true" });

        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->run.sandbox.jail, JailMode::Auto);
    }

    TEST(CliOptions, Jail_JailsWhenRoot)
    {
        auto parsed = parse({ "run", "--jail", "--", "true" });

        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->run.sandbox.jail, JailMode::Auto);
        EXPECT_FALSE(parse({ "run", "--jail", "--no-jail", "--", "true" }));
    }

    TEST(CliOptions, NoJail_TurnsTheJailOff)
    {
        auto parsed = parse({ "run", "--no-jail", "--", "true" });

        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->run.sandbox.jail, JailMode::Off);
    }

    TEST(CliOptions, RequireJail_RequiresIt)
    {
        auto parsed = parse({ "run", "--require-jail", "--", "true" });

        ASSERT_TRUE(parsed) << parsed.error().message;
        EXPECT_EQ(parsed->run.sandbox.jail, JailMode::Required);
    }

    TEST(CliOptions, NoJailWithRequireJail_IsRefused)
    {
        auto message = error_of({ "run", "--no-jail", "--require-jail", "--", "true" });

        EXPECT_NE(message.find("excludes"), std::string::npos) << message;
    }

    TEST(CliOptions, RunHelp_CallsNoJailADebuggingAid)
    {
        auto help = parse({ "run", "--help" });

        ASSERT_TRUE(help);
        EXPECT_NE(help->help_text.find("--no-jail"), std::string::npos);
        EXPECT_NE(help->help_text.find("for debugging"), std::string::npos);
        EXPECT_NE(help->help_text.find("--jail"), std::string::npos);
        EXPECT_NE(help->help_text.find("--require-jail"), std::string::npos);
    }

    // --- Networking: --net, --publish, --net-dns ------------------------------------------------

    TEST(CliOptions, Net_DefaultsToNone)
    {
        auto parsed = parse({ "run", "--", "true" });
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->run.sandbox.network, "none");
        EXPECT_TRUE(parsed->run.sandbox.publish.empty());
    }

    TEST(CliOptions, NetPublishAndDns_FillTheSandboxOptions)
    {
        auto parsed = parse({ "run", "--net", "allow=198.18.0.0/15,pypi.org:443", "--publish", "8080:80", "-p",
            "8443:443/tcp", "--net-dns", "198.18.0.53", "--", "true" });
        ASSERT_TRUE(parsed) << parsed.error().message;
        auto const& sandbox = parsed->run.sandbox;
        EXPECT_EQ(sandbox.network, "allow=198.18.0.0/15,pypi.org:443");
        EXPECT_EQ(sandbox.publish, (std::vector<PortMapping> { { 8080, 80 }, { 8443, 443 } }));
        EXPECT_EQ(sandbox.dns_servers, (std::vector<std::string> { "198.18.0.53" }));
    }

    TEST(CliOptions, Publish_Malformed_IsOneLine)
    {
        for (std::string text : { "80", ":80", "80:", "0:80", "80:65536", "a:b", "80:80/udp", "080:80", "80:80:80",
                 "99999999999999999999:1" }) {
            auto message = error_of({ "run", "--net", "internet", "--publish", text, "--", "true" });
            EXPECT_NE(message.find("--publish"), std::string::npos) << text << ": " << message;
            EXPECT_EQ(message.find('\n'), std::string::npos);
        }
    }

} // namespace
} // namespace husk::cli

// Lab: virtio-blk in husk-vmm on real KVM. python3 runs from the debian-python disk root and its
// exit code comes back; a read-only disk refuses writes; 64 MiB copied disk to disk inside the
// guest arrive intact (sha256 on both sides); two guests on one base image never see each
// other's writes, including a lower directory removed and created again (an opaque overlay
// directory, which needs xattrs on the tmpfs upper layer).
#include "tests/lab/vmm_process.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace husk::lab;
using namespace std::chrono_literals;

namespace {

std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + "\nreport: " + run.report + "\nstdout:\n" + run.out
        + "\nstderr:\n" + run.err;
}

std::string debian_image() { return assets_dir() + "/debian-python.ext4"; }

bool have_debian_image() { return access(debian_image().c_str(), R_OK) == 0; }

// A sparse temporary file of `size` bytes; removed with the object.
struct TempDisk {
    explicit TempDisk(uint64_t size)
    {
        char name[] = "/tmp/husk-lab-disk-XXXXXX";
        int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
        close(fd);
        path = name;
    }
    ~TempDisk() { unlink(path.c_str()); }
    std::string path;
};

// sha256 of the first `length` bytes of a file, via coreutils on the lab host.
std::string sha256_of(std::string const& path, uint64_t length)
{
    std::string command = "head -c " + std::to_string(length) + " '" + path + "' | sha256sum";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe)
        return {};
    char buffer[128] = {};
    std::string out = fgets(buffer, sizeof buffer, pipe) ? buffer : "";
    pclose(pipe);
    return out.substr(0, 64);
}

void fill_random(std::string const& path, uint64_t length)
{
    std::mt19937_64 generator(42);
    std::vector<uint64_t> chunk(1 << 17);
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    for (uint64_t done = 0; done < length; done += chunk.size() * sizeof(uint64_t)) {
        for (auto& word : chunk)
            word = generator();
        ASSERT_EQ(write(fd, chunk.data(), chunk.size() * sizeof(uint64_t)),
            static_cast<ssize_t>(chunk.size() * sizeof(uint64_t)));
    }
    close(fd);
}

} // namespace

TEST(LabDisk, PythonOnDebianRoot_Prints42)
{
    if (!have_debian_image())
        FAIL() << debian_image() << " missing: build it with packaging/rootfs/build.sh debian-python (as root)";
    auto run = run_vmm({ "--serial", "stdout", "--memory", "256M", "--disk", debian_image() + ",ro", "--cmdline",
                           "husk.root=/dev/vda", "--", "python3", "-c", "print(6*7)" },
        240s);
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_NE(run.out.find("42"), std::string::npos) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 0) << describe(run);
}

TEST(LabDisk, PythonExitCode_ReachesHost)
{
    if (!have_debian_image())
        FAIL() << debian_image() << " missing: build it with packaging/rootfs/build.sh debian-python (as root)";
    auto run = run_vmm({ "--memory", "256M", "--disk", debian_image() + ",ro", "--cmdline", "husk.root=/dev/vda", "--",
                           "python3", "-c", "import sys; sys.exit(7)" },
        240s);
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 7) << describe(run);
}

TEST(LabDisk, ReadOnlyDisk_RefusesWrites)
{
    TempDisk disk(1 << 20);
    fill_random(disk.path, 1 << 20);
    auto before = sha256_of(disk.path, 1 << 20);
    auto run = run_vmm({ "--serial", "stdout", "--disk", disk.path + ",ro", "--", "sh", "-c",
        "dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; echo rc=$?; cat /sys/block/vda/ro" });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(run.out.find("rc=0"), std::string::npos) << describe(run);
    EXPECT_NE(run.out.find("rc="), std::string::npos) << describe(run);
    EXPECT_EQ(sha256_of(disk.path, 1 << 20), before);
}

TEST(LabDisk, SixtyFourMebibytes_CopiedDiskToDisk_MatchOnBothSides)
{
    constexpr uint64_t size = 64ull << 20;
    TempDisk source(size);
    TempDisk target(size);
    fill_random(source.path, size);
    auto expected = sha256_of(source.path, size);
    // The guest copies vda to vdb with direct I/O, then reads vdb back and hashes it.
    auto run = run_vmm({ "--serial", "stdout", "--memory", "256M", "--disk", source.path + ",ro", "--disk", target.path,
                           "--", "sh", "-c",
                           "dd if=/dev/vda of=/dev/vdb bs=1M count=64 iflag=direct oflag=direct 2>/dev/null && sync && "
                           "echo 3 > /proc/sys/vm/drop_caches && echo guest-sha=$(dd if=/dev/vdb bs=1M count=64 "
                           "iflag=direct 2>/dev/null | sha256sum)" },
        600s);
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 0) << describe(run);
    EXPECT_EQ(sha256_of(target.path, size), expected);
    EXPECT_NE(run.out.find("guest-sha=" + expected), std::string::npos) << describe(run);
}

TEST(LabDisk, TwoGuestsOnOneBaseImage_NeverSeeEachOthersWrites)
{
    if (!have_debian_image())
        FAIL() << debian_image() << " missing: build it with packaging/rootfs/build.sh debian-python (as root)";
    auto before = sha256_of(debian_image(), 1ull << 40);
    std::vector<std::string> common { "--serial", "stdout", "--memory", "256M", "--disk", debian_image() + ",ro",
        "--cmdline", "husk.root=/dev/vda", "--" };
    auto first_arguments = common;
    first_arguments.insert(first_arguments.end(),
        { "sh", "-c",
            "echo secret > /etc/first && rm -rf /usr/share/doc && rm -rf /etc/apt && mkdir /etc/apt && "
            "touch /etc/apt/new && ls /etc/first /etc/apt/new && echo wrote" });
    auto first = run_vmm(first_arguments, 240s);
    ASSERT_EQ(first.exit_status, 0) << describe(first);
    EXPECT_NE(first.out.find("wrote"), std::string::npos) << describe(first);

    auto second_arguments = common;
    second_arguments.insert(second_arguments.end(),
        { "sh", "-c",
            "test -e /etc/first -o -e /etc/apt/new && echo leaked || echo clean; test -d /usr/share/doc -a -d "
            "/etc/apt/apt.conf.d && echo base-intact" });
    auto second = run_vmm(second_arguments, 240s);
    ASSERT_EQ(second.exit_status, 0) << describe(second);
    EXPECT_NE(second.out.find("clean"), std::string::npos) << describe(second);
    EXPECT_NE(second.out.find("base-intact"), std::string::npos) << describe(second);
    EXPECT_EQ(sha256_of(debian_image(), 1ull << 40), before);
}

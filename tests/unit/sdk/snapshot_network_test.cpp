// read_snapshot_network: the MAC a restore without root probes passt from, and whether the guest
// negotiated a tap's offloads, read from the snapshot's state file; a file that is missing,
// corrupt or from another build is refused naming it.
#include "husk/sandbox.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "sdk/src/snapshot_network.hpp"
#include "tests/unit/runtime/snapshot/minimal_machine_snapshot.hpp"
#include "virtio/core/virtio_spec.hpp"
#include "virtio/net/net_spec.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

namespace husk::detail {
namespace {

    constexpr std::array<uint8_t, 6> snapshotted_mac { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 };

    // A decodable state file with vsock and, if asked, a virtio-net slot.
    MachineSnapshot small_snapshot(bool with_net, uint64_t net_driver_features = 0)
    {
        auto snapshot = testing_snapshot::minimal_machine_snapshot();
        VirtioSlotSnapshot vsock;
        vsock.device_type = 19;
        vsock.transport.queues.resize(3);
        vsock.vsock_guest_cid = 3;
        snapshot.virtio.push_back(vsock);
        if (with_net) {
            VirtioSlotSnapshot net;
            net.device_type = 1;
            net.transport.queues.resize(2);
            net.net_mac = snapshotted_mac;
            net.transport.driver_features = net_driver_features;
            snapshot.virtio.push_back(net);
        }
        return snapshot;
    }

    class SnapshotNetworkFile : public ::testing::Test {
    protected:
        void SetUp() override
        {
            char name[] = "/tmp/husk-guest-mac-XXXXXX";
            ASSERT_NE(::mkdtemp(name), nullptr);
            m_directory = name;
        }
        void TearDown() override { std::filesystem::remove_all(m_directory); }

        void write_state(std::vector<uint8_t> const& bytes)
        {
            auto file = Fd::open(m_directory + "/state", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            ASSERT_TRUE(file) << file.error().message;
            ASSERT_EQ(::write(file->get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        }
        std::string refusal()
        {
            auto network = read_snapshot_network(m_directory);
            if (network)
                return "accepted";
            EXPECT_EQ(network.error().kind, ErrorKind::BadConfig);
            EXPECT_NE(network.error().message.find(m_directory + "/state"), std::string::npos)
                << network.error().message;
            return network.error().message;
        }

        std::string m_directory;
    };

    TEST_F(SnapshotNetworkFile, StreamNetSlot_GivesItsMacAndNoOffloads)
    {
        using virtio::feature_mask;
        write_state(encode_snapshot(small_snapshot(true, feature_mask(virtio::net::feature::mac))));
        auto network = read_snapshot_network(m_directory);
        ASSERT_TRUE(network) << network.error().message;
        ASSERT_TRUE(network->has_value());
        EXPECT_EQ((*network)->mac, snapshotted_mac);
        EXPECT_FALSE((*network)->offloads);
    }

    TEST_F(SnapshotNetworkFile, TapNetSlot_SaysItsGuestUsesOffloads)
    {
        using virtio::feature_mask;
        write_state(encode_snapshot(small_snapshot(true,
            feature_mask(virtio::net::feature::mac) | feature_mask(virtio::net::feature::csum)
                | feature_mask(virtio::net::feature::guest_csum))));
        auto network = read_snapshot_network(m_directory);
        ASSERT_TRUE(network) << network.error().message;
        ASSERT_TRUE(network->has_value());
        EXPECT_TRUE((*network)->offloads);
    }

    TEST_F(SnapshotNetworkFile, NoNetSlot_GivesNone)
    {
        write_state(encode_snapshot(small_snapshot(false)));
        auto network = read_snapshot_network(m_directory);
        ASSERT_TRUE(network) << network.error().message;
        EXPECT_FALSE(network->has_value());
    }

    TEST_F(SnapshotNetworkFile, MissingStateFile_IsRefusedNamingIt) { EXPECT_NE(refusal(), "accepted"); }

    TEST_F(SnapshotNetworkFile, EmptyStateFile_IsRefused)
    {
        write_state({});
        EXPECT_NE(refusal(), "accepted");
    }

    TEST_F(SnapshotNetworkFile, TruncatedStateFile_IsRefused)
    {
        auto bytes = encode_snapshot(small_snapshot(true));
        bytes.resize(bytes.size() - 3);
        write_state(bytes);
        EXPECT_NE(refusal().find("truncated"), std::string::npos);
    }

    TEST_F(SnapshotNetworkFile, FlippedByteInTheBody_FailsTheChecksum)
    {
        auto bytes = encode_snapshot(small_snapshot(true));
        bytes.back() ^= 0x40; // the MAC's last byte
        write_state(bytes);
        EXPECT_NE(refusal().find("checksum"), std::string::npos);
    }

    TEST_F(SnapshotNetworkFile, AnotherFormatVersion_IsRefusedAsAnotherBuilds)
    {
        auto bytes = encode_snapshot(small_snapshot(true));
        bytes[8] = static_cast<uint8_t>(snapshot_format::version + 1); // the u32 after the magic
        write_state(bytes);
        EXPECT_NE(refusal().find("version"), std::string::npos);
    }

    // Sandbox::restore without root reads the file before it starts anything (passt included).
    std::string unjailed_restore_refusal(std::string const& directory)
    {
        SandboxOptions options;
        options.network = "internet";
        options.jail = JailMode::Off;
        auto restored = Sandbox::restore(directory, options);
        if (restored)
            return "restored";
        EXPECT_EQ(restored.error().kind, ErrorKind::BadConfig);
        return restored.error().message;
    }

    TEST_F(SnapshotNetworkFile, UnjailedRestoreWithANetwork_OfASnapshotWithout_IsRefused)
    {
        write_state(encode_snapshot(small_snapshot(false)));
        EXPECT_NE(unjailed_restore_refusal(m_directory).find("has no network device"), std::string::npos);
    }

    TEST_F(SnapshotNetworkFile, UnjailedRestore_OfASnapshotTakenOnATap_IsRefusedSayingRoot)
    {
        using virtio::feature_mask;
        write_state(encode_snapshot(small_snapshot(true, feature_mask(virtio::net::feature::guest_csum))));
        EXPECT_NE(unjailed_restore_refusal(m_directory).find("restore it as root"), std::string::npos);
    }

} // namespace
} // namespace husk::detail

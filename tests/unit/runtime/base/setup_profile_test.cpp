// SetupProfile: phases recorded from several threads come out as one JSON object, times from the
// origin, and the capacity bounds what is kept.
#include "runtime/base/setup_profile.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>

using namespace husk;
using namespace std::chrono_literals;

TEST(SetupProfile, RecordedPhases_AppearInOrderWithTimesFromTheOrigin)
{
    SetupProfile profile;
    auto origin = SetupProfile::Clock::now();
    profile.set_origin(origin);
    profile.record("kvm open", origin + 100us, origin + 350us, 200'000);
    profile.record("memory slots", origin + 400us, origin + 2400us, 50'000);

    auto json = nlohmann::json::parse(profile.to_json(origin + 3ms));

    EXPECT_EQ(json["first_run_us"], 3000);
    EXPECT_EQ(json["origin_monotonic_ns"],
        std::chrono::duration_cast<std::chrono::nanoseconds>(origin.time_since_epoch()).count());
    ASSERT_EQ(json["phases"].size(), 2u);
    EXPECT_EQ(json["phases"][0]["phase"], "kvm open");
    EXPECT_EQ(json["phases"][0]["start_us"], 100);
    EXPECT_EQ(json["phases"][0]["wall_us"], 250);
    EXPECT_EQ(json["phases"][0]["cpu_us"], 200);
    EXPECT_EQ(json["phases"][1]["phase"], "memory slots");
    EXPECT_EQ(json["phases"][1]["wall_us"], 2000);
    EXPECT_EQ(json["dropped"], 0);
}

TEST(SetupProfile, NoFirstRun_IsNull)
{
    SetupProfile profile;
    profile.set_origin(SetupProfile::Clock::now());
    auto json = nlohmann::json::parse(profile.to_json(std::nullopt));
    EXPECT_TRUE(json["first_run_us"].is_null());
    EXPECT_TRUE(json["phases"].empty());
}

TEST(SetupProfile, MorePhasesThanCapacity_AreCountedAsDropped)
{
    SetupProfile profile;
    auto now = SetupProfile::Clock::now();
    profile.set_origin(now);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                profile.record("phase", now, now, 0);
        });
    for (auto& thread : threads)
        thread.join();

    auto json = nlohmann::json::parse(profile.to_json(std::nullopt));
    EXPECT_EQ(json["phases"].size() + json["dropped"].get<size_t>(), 100u);
    EXPECT_GT(json["dropped"].get<size_t>(), 0u);
}

TEST(SetupProfile, LongPhaseName_IsCutNotOverflowed)
{
    SetupProfile profile;
    auto now = SetupProfile::Clock::now();
    profile.set_origin(now);
    profile.record(std::string(100, 'x'), now, now, 0);
    auto json = nlohmann::json::parse(profile.to_json(std::nullopt));
    EXPECT_EQ(json["phases"][0]["phase"], std::string(31, 'x'));
}

TEST(SetupPhase, Scope_IsRecordedInTheProcessProfile)
{
    {
        SetupPhase phase("unit-test scope");
    }
    auto json = nlohmann::json::parse(SetupProfile::process().to_json(std::nullopt));
    bool found = false;
    for (auto const& phase : json["phases"])
        found = found || phase["phase"] == "unit-test scope";
    EXPECT_TRUE(found);
}

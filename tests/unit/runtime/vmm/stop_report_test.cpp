// Stop report JSON: every stop reason, job variants, null timings and the escaping of the
// detail string (ASCII output, invalid UTF-8 replaced).
#include "runtime/vmm/stop_report.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace std::chrono_literals;

namespace {
StopReport report_with(StopReason reason, std::string detail = "d")
{
    StopReport report;
    report.reason = reason;
    report.detail = std::move(detail);
    report.timings.total = 1500us;
    return report;
}

// The detail field's JSON text, quotes included.
std::string escaped(std::string_view text)
{
    auto json = to_json(report_with(StopReason::KvmError, std::string(text)));
    auto start = json.find("\"detail\":") + 9;
    auto end = json.find(",\"job\":");
    return json.substr(start, end - start);
}
} // namespace

TEST(StopReportJson, EveryReason_HasItsName)
{
    std::pair<StopReason, char const*> const cases[] = {
        { StopReason::GuestShutdown, "guest-shutdown" },
        { StopReason::GuestCrashed, "guest-crashed" },
        { StopReason::GuestHalted, "guest-halted" },
        { StopReason::Timeout, "timeout" },
        { StopReason::KvmError, "kvm-error" },
        { StopReason::HostSignal, "host-signal" },
        { StopReason::VmmError, "vmm-error" },
    };
    for (auto const& [reason, name] : cases) {
        auto json = to_json(report_with(reason));
        EXPECT_EQ(json.rfind(std::string("{\"stop_reason\":\"") + name + "\",", 0), 0u) << json;
    }
}

TEST(StopReportJson, NoGuestStatus_GivesNullJobAndTimings)
{
    EXPECT_EQ(to_json(report_with(StopReason::Timeout, "slow")),
        "{\"stop_reason\":\"timeout\",\"detail\":\"slow\",\"job\":null,\"setup_us\":null,\"boot_to_init_us\":null,"
        "\"total_us\":1500,\"invalid_status_writes\":0,"
        "\"clock_us\":{\"start\":null,\"first_run\":null,\"boot_marker\":null,\"job_status\":null,"
        "\"shutdown_intent\":null,\"stopped\":null}}");
}

TEST(StopReportJson, FullRun_HasExitCodeAndAllTimings)
{
    auto report = report_with(StopReason::GuestShutdown, "ok");
    report.guest.exit_code = 3;
    report.guest.invalid_writes = 2;
    report.timings.setup = 20us;
    report.timings.boot_to_init = 700us;
    EXPECT_EQ(to_json(report),
        "{\"stop_reason\":\"guest-shutdown\",\"detail\":\"ok\",\"job\":{\"exit_code\":3},\"setup_us\":20,"
        "\"boot_to_init_us\":700,\"total_us\":1500,\"invalid_status_writes\":2,"
        "\"clock_us\":{\"start\":null,\"first_run\":null,\"boot_marker\":null,\"job_status\":null,"
        "\"shutdown_intent\":null,\"stopped\":null}}");
}

TEST(StopReportJson, Clock_GivesMonotonicMicroseconds)
{
    auto report = report_with(StopReason::GuestShutdown, "ok");
    std::chrono::steady_clock::time_point origin {};
    report.clock.start = origin + 1000us;
    report.clock.first_run = origin + 2000us;
    report.guest.boot_marker_time = origin + 3000us;
    report.guest.job_status_time = origin + 4000us;
    report.guest.shutdown_intent_time = origin + 5000us;
    report.clock.stopped = origin + 6000us;
    EXPECT_NE(to_json(report).find("\"clock_us\":{\"start\":1000,\"first_run\":2000,\"boot_marker\":3000,"
                                   "\"job_status\":4000,\"shutdown_intent\":5000,\"stopped\":6000}"),
        std::string::npos)
        << to_json(report);
}

TEST(StopReportJson, Signal_IsReported)
{
    auto report = report_with(StopReason::GuestShutdown);
    report.guest.signal = 9;
    EXPECT_NE(to_json(report).find("\"job\":{\"signal\":9}"), std::string::npos);
}

TEST(StopReportJson, SpawnErrors_HaveNames)
{
    std::pair<status_port::SpawnError, char const*> const cases[] = {
        { status_port::SpawnError::NotFound, "not-found" },
        { status_port::SpawnError::PermissionDenied, "permission-denied" },
        { status_port::SpawnError::NotExecutable, "not-executable" },
        { status_port::SpawnError::BadWorkingDirectory, "bad-working-directory" },
        { status_port::SpawnError::Other, "other" },
    };
    for (auto const& [error, name] : cases) {
        auto report = report_with(StopReason::GuestShutdown);
        report.guest.spawn_error = error;
        EXPECT_NE(to_json(report).find(std::string("\"job\":{\"spawn_error\":\"") + name + "\"}"), std::string::npos);
    }
}

TEST(JsonString, QuotesAndBackslashes_AreEscaped) { EXPECT_EQ(escaped("a\"b\\c"), "\"a\\\"b\\\\c\""); }

TEST(JsonString, ControlCharacters_AreEscaped)
{
    EXPECT_EQ(escaped("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
    EXPECT_EQ(escaped(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(escaped(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonString, ValidUtf8_IsEscapedToAscii)
{
    EXPECT_EQ(
        escaped("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"), "\"gr\\u00fc\\u00df \\u20ac \\ud83d\\ude00\"");
}

TEST(JsonString, InvalidUtf8_BecomesReplacementCharacter)
{
    EXPECT_EQ(escaped("a\xff"), "\"a\\ufffd\"");
    EXPECT_EQ(escaped("\xc3"), "\"\\ufffd\""); // truncated sequence
    for (char const* invalid : { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80" }) {
        // overlong '/', a UTF-16 surrogate, above U+10FFFF: only replacement characters remain
        auto text = escaped(invalid);
        EXPECT_NE(text.find("\\ufffd"), std::string::npos) << text;
        for (char c : text)
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << text;
    }
}

TEST(StopReportJson, DetailWithHostileText_StaysOneLine)
{
    auto json = to_json(report_with(StopReason::KvmError, "line1\nline2 \"quoted\" \x1b[31m"));
    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_NE(json.find("line1\\nline2 \\\"quoted\\\" \\u001b[31m"), std::string::npos) << json;
}

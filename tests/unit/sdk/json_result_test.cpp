// husk run --json rendering: each object parsed back, escaping, invalid UTF-8 carried byte for
// byte, result and error objects.
#include "sdk/cli/json_result.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace husk::cli {
namespace {

    // The bytes back from a stream field written as Latin-1 code points.
    std::string latin1_bytes(std::string const& utf8)
    {
        std::string bytes;
        for (size_t i = 0; i < utf8.size(); ++i) {
            auto c = static_cast<unsigned char>(utf8[i]);
            if (c < 0x80) {
                bytes += static_cast<char>(c);
            } else {
                bytes += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f));
                ++i;
            }
        }
        return bytes;
    }

    RunResult exited_with(std::string out, std::string err)
    {
        RunResult result;
        result.status = RunStatus::Exited;
        result.exit_code = 2;
        result.stdout_data = std::move(out);
        result.stderr_data = std::move(err);
        return result;
    }

    TEST(CliResultJson, Exited_HasStatusCodeAndOutputInOrder)
    {
        auto json = result_json(exited_with("hi\n", "oops"), 2, std::chrono::milliseconds(40));

        EXPECT_EQ(json.rfind("{\"exit_status\":2,\"status\":\"exited\",\"exit_code\":2,\"timed_out\":false", 0), 0u)
            << json;
        auto parsed = nlohmann::json::parse(json);
        EXPECT_EQ(parsed["stdout"], "hi\n");
        EXPECT_EQ(parsed["stderr"], "oops");
        EXPECT_EQ(parsed["boot_ms"], 40);
        EXPECT_FALSE(parsed.contains("stdout_encoding"));
    }

    TEST(CliResultJson, QuotesControlsAndNonAscii_AreEscapedToOneAsciiLine)
    {
        std::string out = "a\"b\\c\nd\x01 h\xc3\xa9llo \x1b[31m";

        auto json = result_json(exited_with(out, ""), 0, {});

        for (char c : json)
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << json;
        EXPECT_NE(json.find("\\u0001"), std::string::npos) << json;
        EXPECT_EQ(nlohmann::json::parse(json)["stdout"], out);
    }

    TEST(CliResultJson, InvalidUtf8_IsCarriedByteForByteAsLatin1)
    {
        std::string err = "\xff\xc3 ok \xc0\xaf \xed\xa0\x80";

        auto json = result_json(exited_with("", err), 0, {});

        auto parsed = nlohmann::json::parse(json);
        EXPECT_EQ(parsed["stderr_encoding"], "latin1");
        EXPECT_EQ(latin1_bytes(parsed["stderr"].get<std::string>()), err);
        EXPECT_NE(json.find("\\u00ff\\u00c3"), std::string::npos) << json;
    }

    TEST(CliResultJson, SpawnFailure_CarriesTheMessage)
    {
        RunResult result;
        result.status = RunStatus::SpawnFailed;
        result.spawn_message = "no such file: \"x\"";

        auto parsed = nlohmann::json::parse(result_json(result, 127, {}));

        EXPECT_EQ(parsed["status"], "spawn-failed");
        EXPECT_EQ(parsed["spawn_error"], "no such file: \"x\"");
        EXPECT_FALSE(parsed.contains("exit_code"));
    }

    TEST(CliUtf8, StrictCheck_RejectsOverlongSurrogatesAndOutOfRange)
    {
        EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
        EXPECT_FALSE(is_valid_utf8("\xc0\xaf")); // overlong '/'
        EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf")); // overlong
        EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80")); // surrogate
        EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
        EXPECT_FALSE(is_valid_utf8("\xc3")); // truncated
    }

    TEST(CliErrorJson, CarriesKindAndMessage)
    {
        auto json = error_json(Error { "no \"kvm\"", 0, ErrorKind::VmmStartFailed }, 125);

        EXPECT_EQ(
            json, "{\"exit_status\":125,\"error\":{\"kind\":\"vmm-start-failed\",\"message\":\"no \\\"kvm\\\"\"}}");
    }

} // namespace
} // namespace husk::cli

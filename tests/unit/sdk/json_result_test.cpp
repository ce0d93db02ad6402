// husk run --json rendering: escaping, invalid UTF-8, result and error objects.
#include "sdk/cli/json_result.hpp"

#include <gtest/gtest.h>

namespace husk::cli {
namespace {

    TEST(CliJsonString, EscapesQuotesControlsAndBackslashes)
    {
        bool valid;
        EXPECT_EQ(json_string("a\"b\\c\nd\x01", valid), "\"a\\\"b\\\\c\\nd\\u0001\"");
        EXPECT_TRUE(valid);
    }

    TEST(CliJsonString, ValidUtf8_PassesThrough)
    {
        bool valid;
        EXPECT_EQ(json_string("h\xc3\xa9llo", valid), "\"h\xc3\xa9llo\"");
        EXPECT_TRUE(valid);
    }

    TEST(CliJsonString, InvalidUtf8_IsEscapedPerByte)
    {
        bool valid;
        EXPECT_EQ(json_string("\xff\xc3", valid), "\"\\u00ff\\u00c3\"");
        EXPECT_FALSE(valid);
    }

    TEST(CliResultJson, Exited_HasStatusCodeAndOutput)
    {
        RunResult result;
        result.status = RunStatus::Exited;
        result.exit_code = 2;
        result.stdout_data = "hi\n";
        result.stderr_data = "\xff";

        auto json = result_json(result, 2, std::chrono::milliseconds(40));

        EXPECT_NE(json.find("\"exit_status\":2,\"status\":\"exited\",\"exit_code\":2"), std::string::npos) << json;
        EXPECT_NE(json.find("\"stdout\":\"hi\\n\""), std::string::npos) << json;
        EXPECT_NE(json.find("\"stderr_encoding\":\"latin1\""), std::string::npos) << json;
        EXPECT_NE(json.find("\"boot_ms\":40"), std::string::npos) << json;
    }

    TEST(CliErrorJson, CarriesKindAndMessage)
    {
        auto json = error_json(Error { "no \"kvm\"", 0, ErrorKind::VmmStartFailed }, 125);

        EXPECT_EQ(
            json, "{\"exit_status\":125,\"error\":{\"kind\":\"vmm-start-failed\",\"message\":\"no \\\"kvm\\\"\"}}");
    }

} // namespace
} // namespace husk::cli

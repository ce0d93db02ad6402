// Typed, non-throwing access to fields of a parsed nlohmann::json object, for the strict parsers
// of config.json, process.json and state.json: each getter checks the type (and range) before
// converting and names the field's dotted path in its error, so nlohmann never throws.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::oci {

using Json = nlohmann::json;

/// Parses text without exceptions; `what` names the document in the error.
Result<Json> parse_json_document(std::string_view text, std::string_view what);

class JsonFields {
public:
    /// `object` must outlive this; `path` is its dotted location ("" for the document).
    JsonFields(Json const& object, std::string path);

    /// A JsonFields for an object (fails unless `json` is one).
    static Result<JsonFields> of(Json const& json, std::string path);

    bool has(std::string_view key) const;
    Result<std::string> string(std::string_view key) const; ///< required
    Result<std::optional<std::string>> optional_string(std::string_view key) const;
    Result<std::optional<bool>> optional_bool(std::string_view key) const;
    Result<std::optional<int64_t>> optional_int(std::string_view key) const;
    Result<std::optional<uint64_t>> optional_uint(std::string_view key, uint64_t max) const;
    Result<std::vector<std::string>> optional_strings(std::string_view key) const; ///< missing: empty
    Result<std::map<std::string, std::string>> optional_string_map(std::string_view key) const;
    /// A nested object; nullopt when absent (null counts as absent, as Go's encoding/json does).
    Result<std::optional<JsonFields>> optional_object(std::string_view key) const;

    std::string field_path(std::string_view key) const;
    Json const& json() const { return *m_object; }

private:
    Json const* find(std::string_view key) const;
    Json const* m_object;
    std::string m_path;
};

} // namespace husk::oci

// Typed access to JSON fields: type checks before every conversion, errors with dotted paths.
#include "sdk/oci/json_fields.hpp"

namespace husk::oci {

namespace {

    char const* type_name(Json const& value)
    {
        return value.type_name();
    }

    Unexpected<Error> wrong_type(std::string const& path, char const* expected, Json const& value)
    {
        return fail(ErrorKind::BadConfig, path + ": expected " + expected + ", got " + type_name(value));
    }

} // namespace

Result<Json> parse_json_document(std::string_view text, std::string_view what)
{
    // allow_exceptions=false: a syntax error yields a "discarded" value instead of throwing.
    // Comments are not allowed (JSON as runc's Go decoder reads it).
    Json document = Json::parse(text.begin(), text.end(), nullptr, false, false);
    if (document.is_discarded())
        return fail(ErrorKind::BadConfig, std::string(what) + ": not valid JSON");
    return document;
}

JsonFields::JsonFields(Json const& object, std::string path)
    : m_object(&object)
    , m_path(std::move(path))
{
}

Result<JsonFields> JsonFields::of(Json const& json, std::string path)
{
    if (!json.is_object())
        return wrong_type(path.empty() ? "document" : path, "an object", json);
    return JsonFields(json, std::move(path));
}

std::string JsonFields::field_path(std::string_view key) const
{
    return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
}

Json const* JsonFields::find(std::string_view key) const
{
    auto it = m_object->find(key);
    if (it == m_object->end() || it->is_null())
        return nullptr;
    return &*it;
}

bool JsonFields::has(std::string_view key) const { return find(key) != nullptr; }

Result<std::string> JsonFields::string(std::string_view key) const
{
    auto value = TRY(optional_string(key));
    if (!value)
        return fail(ErrorKind::BadConfig, field_path(key) + ": missing");
    return *value;
}

Result<std::optional<std::string>> JsonFields::optional_string(std::string_view key) const
{
    auto const* value = find(key);
    if (!value)
        return std::optional<std::string>();
    if (!value->is_string())
        return wrong_type(field_path(key), "a string", *value);
    return std::optional<std::string>(value->get<std::string>());
}

Result<std::optional<bool>> JsonFields::optional_bool(std::string_view key) const
{
    auto const* value = find(key);
    if (!value)
        return std::optional<bool>();
    if (!value->is_boolean())
        return wrong_type(field_path(key), "a boolean", *value);
    return std::optional<bool>(value->get<bool>());
}

Result<std::optional<int64_t>> JsonFields::optional_int(std::string_view key) const
{
    auto const* value = find(key);
    if (!value)
        return std::optional<int64_t>();
    if (value->is_number_integer() && !value->is_number_unsigned())
        return std::optional<int64_t>(value->get<int64_t>());
    if (value->is_number_unsigned()) {
        auto number = value->get<uint64_t>();
        if (number > static_cast<uint64_t>(INT64_MAX))
            return fail(ErrorKind::BadConfig, field_path(key) + ": out of range");
        return std::optional<int64_t>(static_cast<int64_t>(number));
    }
    return wrong_type(field_path(key), "an integer", *value);
}

Result<std::optional<uint64_t>> JsonFields::optional_uint(std::string_view key, uint64_t max) const
{
    auto const* value = find(key);
    if (!value)
        return std::optional<uint64_t>();
    if (!value->is_number_unsigned()) {
        if (value->is_number_integer())
            return fail(ErrorKind::BadConfig, field_path(key) + ": must not be negative");
        return wrong_type(field_path(key), "an integer", *value);
    }
    auto number = value->get<uint64_t>();
    if (number > max)
        return fail(ErrorKind::BadConfig, field_path(key) + ": " + std::to_string(number) + " is above "
                + std::to_string(max));
    return std::optional<uint64_t>(number);
}

Result<std::vector<std::string>> JsonFields::optional_strings(std::string_view key) const
{
    std::vector<std::string> strings;
    auto const* value = find(key);
    if (!value)
        return strings;
    if (!value->is_array())
        return wrong_type(field_path(key), "an array of strings", *value);
    for (size_t i = 0; i < value->size(); ++i) {
        auto const& item = (*value)[i];
        if (!item.is_string())
            return wrong_type(field_path(key) + "[" + std::to_string(i) + "]", "a string", item);
        strings.push_back(item.get<std::string>());
    }
    return strings;
}

Result<std::map<std::string, std::string>> JsonFields::optional_string_map(std::string_view key) const
{
    std::map<std::string, std::string> map;
    auto const* value = find(key);
    if (!value)
        return map;
    if (!value->is_object())
        return wrong_type(field_path(key), "an object of strings", *value);
    for (auto const& [name, item] : value->items()) {
        if (!item.is_string())
            return wrong_type(field_path(key) + "." + name, "a string", item);
        map.emplace(name, item.get<std::string>());
    }
    return map;
}

Result<std::optional<JsonFields>> JsonFields::optional_object(std::string_view key) const
{
    auto const* value = find(key);
    if (!value)
        return std::optional<JsonFields>();
    if (!value->is_object())
        return wrong_type(field_path(key), "an object", *value);
    return std::optional<JsonFields>(JsonFields(*value, field_path(key)));
}

} // namespace husk::oci

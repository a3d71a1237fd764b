#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>

namespace slmq {

// Parses a JSON file. Throws DataError naming the file (and the parser's byte position).
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace slmq

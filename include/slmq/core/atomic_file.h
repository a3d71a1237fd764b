#pragma once
// Results are never half-written: content goes to a temporary file in the same directory, is
// flushed, then renamed over the destination. Throws DataError naming the path on failure.
#include <filesystem>
#include <string_view>

namespace slmq {

void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace slmq

#pragma once
// What the PyPI `gguf` package reads in a GGUF file (scripts/reference/check_gguf_file.py), and
// the checks that slmquant's reader sees the same metadata and tensors.
#include <filesystem>
#include <nlohmann/json.hpp>

namespace slmq::test {

// Runs check_gguf_file.py on `file` with the project's Python; fails the test (ADD_FAILURE) and
// returns null when it cannot run.
nlohmann::json gguf_python_view(const std::filesystem::path& file);

// Every metadata key (value and type) and every tensor (name, type, dims, fp32 checksum of the
// dequantized values) of `file` as our reader has them equals the gguf package's view; tolerance:
// none (bit-exact).
void expect_gguf_python_agrees(const std::filesystem::path& file);

}  // namespace slmq::test

#pragma once
// Checks an slmq::Tokenizer against a golden.json of HF `tokenizers` results (written by
// scripts/reference/gen_tokenizers.py and gen_gguf_spm_tokenizer.py): for every string, ids with
// and without special tokens and three decodes; then decodes of random id sequences. Nothing is
// tolerated. Strings run on several threads at once, which also checks thread safety.
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "slmq/tokenizer/tokenizer.h"

namespace slmq::test {

nlohmann::json load_json(const std::filesystem::path& path);

// Prints one summary line tagged `label` ("strings N: ids n/N, ..."), adds a test failure for
// the first mismatches and expects every count to be complete and at least `min_strings`
// strings compared.
void expect_matches_golden(const Tokenizer& tok, const nlohmann::json& golden,
                           const std::string& label, std::size_t min_strings);

}  // namespace slmq::test

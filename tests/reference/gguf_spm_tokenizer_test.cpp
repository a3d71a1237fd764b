// The tokenizer built from a SentencePiece GGUF (tokenizer.ggml.model "llama"): the bundled
// Gemma-3-270M file against google/gemma-3's tokenizer.json and HF `tokenizers`.
// - The synthesized tokenizer.json has the hub file's vocab, 514,906 merges (same order),
//   normalizer, post-processor, decoder and BPE options; its added tokens are the hub's except
//   for the two things the GGUF does not carry (<image_soft_token>, and the special flags of
//   6,245 tokens), each pinned below.
// - Every string of the tokenizer corpus (~12,300: the gemma3 golden strings) gives HF's ids
//   with and without special tokens and HF's decodes, nothing tolerated; reference data from
//   scripts/reference/gen_gguf_spm_tokenizer.py, whose residue against the unmodified hub file
//   (strings that contain <image_soft_token>, skip-special decodes of flag-changed tokens) is
//   printed and its size pinned.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>

#include "slmq/io/gguf_model.h"
#include "slmq/io/json_file.h"
#include "slmq/tokenizer/tokenizer.h"
#include "support/temp_dir.h"
#include "support/tokenizer_golden.h"

namespace slmq::io {
namespace {

const std::filesystem::path kSource(SLMQ_SOURCE_DIR);
const std::filesystem::path kGemma3 = kSource / "assets/models/gemma-3-270m-q4_k_m.gguf";

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

class GgufSpmTokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(std::filesystem::exists(kGemma3)) << kGemma3 << ": run scripts/setup.sh";
    const auto t0 = std::chrono::steady_clock::now();
    const GgufFile file = GgufFile::open(kGemma3);
    json_ = new nlohmann::json(gguf_to_hf_tokenizer(file));
    const double json_ms = ms_since(t0);
    const auto config = TokenizerConfig::from_json(gguf_to_hf_tokenizer_config(file), "gguf");
    tok_ = new Tokenizer(*json_, config, kGemma3.string());
    std::cout << fmt::format(
        "[ gguf tok ] {}: open + tokenizer.json {:.0f} ms, + Tokenizer {:.0f} ms (1 run)\n",
        kGemma3.filename().string(), json_ms, ms_since(t0));
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete json_;
  }
  static nlohmann::json* json_;
  static Tokenizer* tok_;
};
nlohmann::json* GgufSpmTokenizer::json_ = nullptr;
Tokenizer* GgufSpmTokenizer::tok_ = nullptr;

TEST_F(GgufSpmTokenizer, Gemma3JsonIsTheHubTokenizerJson) {
  const auto hub = read_json_file(kSource / "assets/data/tokenizers/gemma3/tokenizer.json");
  const auto& ours = *json_;
  EXPECT_TRUE(ours["model"]["vocab"] == hub["model"]["vocab"]);
  ASSERT_EQ(ours["model"]["merges"].size(), hub["model"]["merges"].size());
  for (std::size_t i = 0; i < hub["model"]["merges"].size(); ++i)
    ASSERT_EQ(ours["model"]["merges"][i], hub["model"]["merges"][i]) << "merge rank " << i;
  for (const auto& [key, value] : hub["model"].items()) {
    if (key != "vocab" && key != "merges") EXPECT_EQ(ours["model"][key], value) << key;
  }
  for (const char* key : {"normalizer", "post_processor", "decoder"})
    EXPECT_EQ(ours[key], hub[key]) << key;
  // The hub splits on ' ' after its normalizer has turned every ' ' into '▁': never a split,
  // as with none.
  EXPECT_EQ(hub["pre_tokenizer"]["type"], "Split");
  EXPECT_EQ(hub["pre_tokenizer"]["pattern"]["String"], " ");
  EXPECT_TRUE(ours["pre_tokenizer"].is_null());

  std::map<std::int64_t, nlohmann::json> added;
  for (const auto& a : ours["added_tokens"]) added[a["id"].get<std::int64_t>()] = a;
  std::size_t same = 0, now_special = 0, now_plain = 0;
  for (auto a : hub["added_tokens"]) {
    const auto id = a["id"].get<std::int64_t>();
    const std::string content = a["content"];
    if (content == "<image_soft_token>") {  // the image processor's token, id 262144
      EXPECT_EQ(added.count(id), 0u);
      continue;
    }
    ASSERT_EQ(added.count(id), 1u) << content;
    const bool hub_special = a["special"];
    a["special"] = added[id]["special"];
    EXPECT_EQ(added[id], a) << content;
    added.erase(id);
    if (hub_special == a["special"]) {
      ++same;
    } else if (hub_special) {  // user-defined in the GGUF
      EXPECT_TRUE(content == "<start_of_image>" || content == "<end_of_image>") << content;
      ++now_plain;
    } else {  // control in the GGUF
      EXPECT_TRUE(content == "<mask>" || content.starts_with("<unused")) << content;
      ++now_special;
    }
  }
  EXPECT_TRUE(added.empty()) << added.size() << " added tokens the hub file does not have";
  std::cout << fmt::format(
      "[ gguf tok ] added tokens: {} as in the hub file, {} control tokens special here "
      "(hub: not), {} user-defined not special here (hub: special), <image_soft_token> absent\n",
      same, now_special, now_plain);
  EXPECT_EQ(now_special, 6243u);  // <mask>, <unused0> ... <unused6241>
  EXPECT_EQ(now_plain, 2u);
}

TEST_F(GgufSpmTokenizer, Gemma3EncodesAndDecodesTheCorpusAsHuggingFace) {
  const auto golden =
      test::load_json(test::reference_dir("gguf_spm_tokenizer") / "gemma3" / "golden.json");
  ASSERT_EQ(golden["tokenizer"]["path"], "assets/models/gemma-3-270m-q4_k_m.gguf");
  test::expect_matches_golden(*tok_, golden, "gemma3 gguf", 11000u);

  // What the unmodified hub file does differently on the same strings (the generator checked
  // that each one contains <image_soft_token> or, for skip-special decodes, a flag-changed id).
  const auto& residue = golden["residue"];
  std::cout << fmt::format(
      "[ gguf tok ] vs the unmodified hub file: ids differ on {} strings (all holding "
      "<image_soft_token>, {} strings), skip-special decodes on {}\n",
      residue["ids"]["strings"].get<int>(), residue["strings_with_image_soft_token"].get<int>(),
      residue["decoded_skip"]["strings"].get<int>());
  EXPECT_EQ(residue["ids"]["strings"], residue["strings_with_image_soft_token"]);
  EXPECT_EQ(residue["ids_special"]["strings"], residue["strings_with_image_soft_token"]);
  EXPECT_EQ(residue["decoded"]["strings"], 0);
  EXPECT_EQ(residue["decoded_special"]["strings"], 0);
  EXPECT_LT(residue["decoded_skip"]["strings"].get<int>(), 400);
}

}  // namespace
}  // namespace slmq::io

// `slmquant quantize … --format gguf` and `slmquant convert … --out FILE.gguf` as a user runs
// them, on the tiny Llama (with the test tokenizer of gen_gguf_export.py): the quantized linears
// land as Q4_1 blocks, an inexact setting is refused naming the nearest exact one, and a GGUF
// converted again keeps the tokenizer keys of its source.
#include <gtest/gtest.h>

#include <fstream>

#include "slmq/io/gguf_file.h"
#include "slmq/io/json_file.h"
#include "support/gguf_python_view.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

fs::path tiny_llama(const fs::path& dir) {
  const fs::path out = dir / "llama";
  fs::copy(test::reference_dir("tiny_models") / "llama_tied", out, fs::copy_options::recursive);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(test::reference_dir("gguf_export") / "tokenizer" / f, out / f);
  return out;
}

TEST(CliGgufExport, QuantizeWritesExactBlocksAndConvertKeepsTheTokenizer) {
  test::TempDir tmp;
  const fs::path model = tiny_llama(tmp.path());
  const fs::path q = tmp.path() / "q4.gguf";
  const std::string quantize = "quantize " + model.string() +
                               " --method rtn --scheme w4a16_asym --group-size 32 --flavour gptq"
                               " --format gguf --out ";
  auto r = test::run_cli(quantize + q.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = read_json_file(tmp.path() / "q4.quantization.json");
  EXPECT_EQ(report["gguf_export"]["tensors_by_mapping"]["exact"], 3 * 7);
  const io::GgufFile file = io::GgufFile::open(q);
  EXPECT_EQ(file.require_tensor("blk.0.attn_q.weight").type, io::GgmlType::kQ4_1);
  EXPECT_EQ(file.require_tensor("token_embd.weight").type, io::GgmlType::kF32);
  EXPECT_EQ(file.get_uint("general.file_type"), 3u);  // LLAMA_FTYPE_MOSTLY_Q4_1

  auto refused = test::run_cli("quantize " + model.string() +
                               " --method rtn --scheme w4a16_asym --group-size 16 --flavour gptq"
                               " --format gguf --out " +
                               (tmp.path() / "g16.gguf").string());
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("group size 16"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "g16.gguf"));

  // GGUF -> GGUF: the weights come back dequantized (F16 here), the tokenizer keys as they were.
  const fs::path again = tmp.path() / "again.gguf";
  r = test::run_cli("convert " + q.string() + " --dtype float16 --out " + again.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::GgufFile second = io::GgufFile::open(again);
  EXPECT_EQ(second.require_tensor("blk.0.attn_q.weight").type, io::GgmlType::kF16);
  for (const auto& [key, value] : file.metadata()) {
    if (!key.starts_with("tokenizer.")) continue;
    ASSERT_NE(second.find(key), nullptr) << key;
    EXPECT_EQ(second.find(key)->to_display_string(1u << 20), value.to_display_string(1u << 20))
        << key;
  }
  test::expect_gguf_python_agrees(again);
}

}  // namespace
}  // namespace slmq

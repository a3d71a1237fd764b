// The GGUF writer (export/gguf_export.h) on the tiny random models of every family
// (gen_tiny_models.py) with the test tokenizer of gen_gguf_export.py:
// - the file reads the same through the PyPI `gguf` package and through our reader: every
//   metadata key and type, every tensor's name, type, dims and dequantized values (bit-exact);
// - reloaded by slmquant (families llama.cpp and our reader share: not Phi-3), the model computes
//   the source model's logits: atol 1e-4 — F32 tensors are copied bit for bit, but Gemma's norms
//   go through (1 + w) − 1 (one fp32 rounding, ~6e-8) and Llama-3 RoPE scaling comes back as
//   per-frequency divisors (rope_freqs), a different fp32 operation order; logits are O(1);
// - the tokenizer read back from the file gives the source tokenizer's ids;
// - quantized linears keep their codes: the nibbles / bytes in the file are the quantizer's codes
//   (shifted as the block type needs) and the block scale is the fp16 of Δ, exactly.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "slmq/core/error.h"
#include "slmq/export/gguf_export.h"
#include "slmq/io/ggml_quantize.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/json_file.h"
#include "slmq/model/model_tokenizer.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quantizer.h"
#include "support/gguf_python_view.h"
#include "support/reference_files.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

// A tiny model folder with the test tokenizer; Gemma-3 adjusted to what llama.cpp's gemma3
// hard-codes (query_pre_attn_scalar = head_dim, five sliding layers then one global).
fs::path prepare_tiny(const std::string& name, const fs::path& dir) {
  const fs::path out = dir / name;
  fs::copy(test::reference_dir("tiny_models") / name, out, fs::copy_options::recursive);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(test::reference_dir("gguf_export") / "tokenizer" / f, out / f);
  if (name.starts_with("gemma3")) {
    nlohmann::json c = read_json_file(out / "config.json");
    c["query_pre_attn_scalar"] = c["head_dim"];
    c["layer_types"] = {"sliding_attention", "sliding_attention", "sliding_attention"};
    std::ofstream(out / "config.json") << c.dump();
  }
  return out;
}

at::Tensor test_ids() { return at::arange(1, 13, at::kLong).unsqueeze(0) * 29 % 384; }

class GgufExportTiny : public ::testing::TestWithParam<std::string> {
 protected:
  test::TempDir tmp_;
};

TEST_P(GgufExportTiny, ReadsBackThroughGgufPackageAndSlmquant) {
  const fs::path dir = prepare_tiny(GetParam(), tmp_.path());
  const ModelSource source = open_model(dir);
  auto model = build_model(source.config, *source.weights, LoadOptions{});
  const fs::path out = tmp_.path() / "model.gguf";
  const GgufExportReport report = export_gguf(*model, source, out, GgufExportOptions{});
  for (const auto& t : report.tensors) EXPECT_EQ(t.type, "F32") << t.name;

  test::expect_gguf_python_agrees(out);

  const io::GgufFile file = io::GgufFile::open(out);
  EXPECT_EQ(file.get_string("tokenizer.ggml.pre"), "smollm");
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 384u);  // padded to the vocab
  EXPECT_TRUE(file.find_string("tokenizer.chat_template").has_value());
  if (GetParam().starts_with("phi3")) {
    // Our reader has no phi3 mapping; llama.cpp's layout: fused q|k|v and gate|up rows.
    EXPECT_EQ(file.get_string("general.architecture"), "phi3");
    const auto qkv = file.dequantize(file.require_tensor("blk.0.attn_qkv.weight"));
    const auto& w = model->layer(0).weights();
    at::Tensor expected =
        at::cat({dynamic_cast<const DenseLinear&>(w.linear(LinearRole::kQ)).weight(),
                 dynamic_cast<const DenseLinear&>(w.linear(LinearRole::kK)).weight(),
                 dynamic_cast<const DenseLinear&>(w.linear(LinearRole::kV)).weight()})
            .contiguous();
    ASSERT_EQ(static_cast<int64_t>(qkv.size()), expected.numel());
    EXPECT_EQ(std::memcmp(qkv.data(), expected.data_ptr<float>(), qkv.size() * 4), 0);
    EXPECT_NE(file.find_tensor("rope_factors_long.weight"), nullptr);
    return;
  }
  auto reloaded = load_any_model(out, LoadOptions{});
  // llama.cpp's llama and qwen3 have no sliding window (the export notes it): compare within one.
  bool windowed = false;
  for (const auto& note : report.notes)
    windowed |= note.find("sliding window") != std::string::npos;
  EXPECT_EQ(windowed, GetParam() == "mistral_window" || GetParam() == "qwen3_qknorm");
  const at::Tensor ids = windowed ? test_ids().narrow(1, 0, 5) : test_ids();
  const at::Tensor a = model->forward(ids, at::Tensor());
  const at::Tensor b = reloaded->forward(ids, at::Tensor());
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-4);

  const std::string text = "The quick brown fox 2024 <tool> jumps";
  EXPECT_EQ(load_model_tokenizer(out).encode(text, true),
            load_model_tokenizer(dir).encode(text, true));
}

INSTANTIATE_TEST_SUITE_P(Families, GgufExportTiny,
                         ::testing::Values("llama_tied", "llama3_scaled_sharded", "qwen2_bias_tied",
                                           "mistral_window", "qwen3_qknorm", "gemma3_sandwich",
                                           "phi3_longrope"));

// Every linear of the tiny Llama replaced by a FakeQuantLinear of `spec`.
std::unique_ptr<Model> quantized_llama(const ModelSource& source, const QuantSpec& spec) {
  auto model = build_model(source.config, *source.weights, LoadOptions{});
  for (auto& [name, slot] : model->linears()) {
    if (name == "lm_head") continue;
    const auto& dense = dynamic_cast<const DenseLinear&>(**slot);
    *slot = std::make_unique<FakeQuantLinear>(quantize_weight(dense.weight(), spec), at::Tensor(),
                                              at::kFloat);
  }
  return model;
}

QuantSpec spec(int bits, bool symmetric, int64_t group, QuantFlavour flavour) {
  QuantSpec s;
  s.bits = bits;
  s.symmetric = symmetric;
  s.flavour = flavour;
  s.granularity = group > 0 ? Granularity::kPerGroup : Granularity::kPerChannel;
  s.group_size = group > 0 ? group : 0;
  return s;
}

struct QuantCase {
  std::string name;
  QuantSpec spec;
  std::string type;  // expected block type
};

class GgufExportQuantized : public ::testing::TestWithParam<QuantCase> {
 protected:
  test::TempDir tmp_;
};

// Decodes block `b` of a legacy tensor into its 32 integer codes (as stored) and its fp16 scale.
std::pair<std::vector<int>, std::uint16_t> block_codes(const io::GgufFile& f,
                                                       const io::GgufTensorInfo& t, int64_t b) {
  const auto bytes = f.tensor_bytes(t);
  const auto traits = io::ggml_traits(t.type);
  const std::uint8_t* p = bytes.data() + b * traits.type_size;
  std::uint16_t d;
  std::memcpy(&d, p, 2);
  std::vector<int> codes(32);
  if (t.type == io::GgmlType::kQ8_0) {
    for (int j = 0; j < 32; ++j) codes[j] = static_cast<std::int8_t>(p[2 + j]);
  } else {
    const std::uint8_t* qs = p + (t.type == io::GgmlType::kQ4_1 ? 4 : 2);
    for (int j = 0; j < 16; ++j) {
      codes[j] = qs[j] & 0x0F;
      codes[j + 16] = qs[j] >> 4;
    }
  }
  return {codes, d};
}

TEST_P(GgufExportQuantized, KeepsTheQuantizerCodes) {
  const QuantCase c = GetParam();
  const fs::path dir = prepare_tiny("llama_tied", tmp_.path());
  const ModelSource source = open_model(dir);
  auto model = quantized_llama(source, c.spec);
  const fs::path out = tmp_.path() / "q.gguf";
  const GgufExportReport report = export_gguf(*model, source, out, GgufExportOptions{});
  test::expect_gguf_python_agrees(out);
  const io::GgufFile f = io::GgufFile::open(out);
  // attn_v keeps HF row order; attn_q's rows are llama.cpp's Q/K permutation of it.
  struct Probe {
    const char* name;
    int64_t layer;
    LinearRole role;
    bool permuted;
  };
  for (const Probe& p : {Probe{"blk.1.attn_v.weight", 1, LinearRole::kV, false},
                         Probe{"blk.1.attn_q.weight", 1, LinearRole::kQ, true},
                         Probe{"blk.2.ffn_down.weight", 2, LinearRole::kDown, false}}) {
    const char* name = p.name;
    const io::GgufTensorInfo& t = f.require_tensor(name);
    ASSERT_EQ(std::string(io::ggml_traits(t.type).name), c.type) << name;
    const auto& fq =
        dynamic_cast<const FakeQuantLinear&>(model->layer(p.layer).weights().linear(p.role));
    const QuantizedWeight q = fq.weight();
    const at::Tensor codes = q.codes.to(at::kInt);
    const at::Tensor zeros = q.zeros.to(at::kInt).expand(q.scales.sizes());
    const int64_t cols = q.codes.size(1), rows = q.codes.size(0);
    const int64_t cpg = q.columns_per_group();
    const int64_t min = code_range(c.spec).min;
    const int64_t half = p.permuted ? 8 : 0;  // head_dim 16 / 2
    for (int64_t r = 0; r < rows; ++r) {
      // The permutation: file row h*16 + 2i + j holds HF row h*16 + j*8 + i.
      const int64_t src = half == 0 ? r : (r / 16) * 16 + (r % 2) * half + (r % 16) / 2;
      for (int64_t b = 0; b < cols / 32; ++b) {
        const auto [stored, d] = block_codes(f, t, r * (cols / 32) + b);
        const int64_t g = b * 32 / cpg;
        const int zero = zeros[src][g].item<int>();
        ASSERT_EQ(d, io::fp32_to_fp16(q.scales[src][g].item<float>())) << name << " row " << r;
        for (int j = 0; j < 32; ++j) {
          const int code = codes[src][b * 32 + j].item<int>();
          const int expected = c.type == "Q4_1"   ? code - static_cast<int>(min)
                               : c.type == "Q4_0" ? code - zero + 8
                                                  : code - zero;
          ASSERT_EQ(stored[j], expected) << name << " row " << r << " col " << b * 32 + j;
        }
      }
    }
  }
  for (const auto& t : report.tensors) {
    if (t.mapping != "exact") continue;
    // fp16 scales: relative rounding at most 2^-11 per block parameter.
    EXPECT_LT(t.relative_error, 2e-3) << t.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schemes, GgufExportQuantized,
    ::testing::Values(
        QuantCase{"w4_asym_g32_gptq", spec(4, false, 32, QuantFlavour::kGptq), "Q4_1"},
        QuantCase{"w4_sym_g32_gptq", spec(4, true, 32, QuantFlavour::kGptq), "Q4_0"},
        QuantCase{"w4_sym_g32_ct", spec(4, true, 32, QuantFlavour::kCompressedTensors), "Q4_0"},
        QuantCase{"w3_asym_g32_gptq", spec(3, false, 32, QuantFlavour::kGptq), "Q4_1"},
        QuantCase{"w4_asym_channel_gptq", spec(4, false, 0, QuantFlavour::kGptq), "Q4_1"},
        QuantCase{"w8_sym_channel_ct", spec(8, true, 0, QuantFlavour::kCompressedTensors), "Q8_0"}),
    [](const auto& info) { return info.param.name; });

TEST(GgufExportInexact, RefusesWithTheNearestExactSettingOrRequantizes) {
  test::TempDir tmp;
  const fs::path dir = prepare_tiny("llama_tied", tmp.path());
  const ModelSource source = open_model(dir);
  auto model = quantized_llama(source, spec(4, false, 16, QuantFlavour::kGptq));
  try {
    export_gguf(*model, source, tmp.path() / "x.gguf", GgufExportOptions{});
    FAIL() << "group size 16 has no exact block";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("group size 16"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--group-size 32"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "x.gguf"));
  GgufExportOptions options;
  options.requantize = true;
  const auto report = export_gguf(*model, source, tmp.path() / "x.gguf", options);
  int requantized = 0;
  for (const auto& t : report.tensors) {
    if (t.mapping != "requantized") continue;
    ++requantized;
    EXPECT_EQ(t.type, "Q4_1");
    EXPECT_GT(t.relative_error, 0.0) << t.name;  // rounding again adds error
  }
  EXPECT_EQ(requantized, 3 * 7);
  EXPECT_FALSE(report.notes.empty());

  auto asym8 = quantized_llama(source, spec(8, false, 32, QuantFlavour::kGptq));
  EXPECT_THROW(export_gguf(*asym8, source, tmp.path() / "y.gguf", GgufExportOptions{}),
               UnsupportedError);
}

// The real SmolLM2 (bundled Q4_1 GGUF, loaded as fp32), RTN 4-bit asymmetric group 32 (gptq
// flavour) on every linear: the export is Q4_1 throughout, reads the same through the gguf
// package and our reader, keeps the source's tokenizer keys, and reloads with the weights
// slmquant computed up to the fp16 block parameters.
TEST(GgufExportSmolLM2, RtnW4G32ReadsBackThroughBothReaders) {
  test::TempDir tmp;
  const fs::path asset =
      fs::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  const ModelSource source = open_model(asset);
  auto model = quantized_llama(source, spec(4, false, 32, QuantFlavour::kGptq));
  const fs::path out = tmp.path() / "smollm2-rtn-q4_1.gguf";
  const GgufExportReport report = export_gguf(*model, source, out, GgufExportOptions{});
  int q4_1 = 0;
  for (const auto& t : report.tensors) {
    if (t.mapping == "exact") {
      ++q4_1;
      EXPECT_EQ(t.type, "Q4_1");
      EXPECT_LT(t.relative_error, 2e-3) << t.name;
    }
  }
  EXPECT_EQ(q4_1, 30 * 7);
  test::expect_gguf_python_agrees(out);
  const io::GgufFile src = io::GgufFile::open(asset), dst = io::GgufFile::open(out);
  for (const auto& [key, value] : src.metadata()) {
    if (!key.starts_with("tokenizer.")) continue;
    ASSERT_NE(dst.find(key), nullptr) << key;
    EXPECT_EQ(dst.find(key)->to_display_string(1u << 30), value.to_display_string(1u << 30)) << key;
  }
  auto reloaded = load_any_model(out, LoadOptions{});
  const auto& fq =
      dynamic_cast<const FakeQuantLinear&>(model->layer(7).weights().linear(LinearRole::kK));
  const auto& back =
      dynamic_cast<const DenseLinear&>(reloaded->layer(7).weights().linear(LinearRole::kK));
  const at::Tensor ours = dequantize(fq.weight());
  // fp16 block parameters: |Δd| <= 2^-11 |d|, |Δm| <= 2^-11 |m|, so per weight at most
  // 2^-11 (15 |d| + |m|); bounded here by 2^-11 * 3 * max|w| per row.
  const at::Tensor bound = ours.abs().amax(1, true) * (3.0 / 2048) + 1e-7;
  EXPECT_TRUE(((back.weight() - ours).abs() <= bound).all().item<bool>());
}

}  // namespace
}  // namespace slmq

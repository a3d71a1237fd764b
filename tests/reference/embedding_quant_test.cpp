// quant.quantize_embedding (slmq/quant/embedding_quant.h) on tiny tied and untied models. The
// reference for a quantized table is the dense model whose float table was replaced by the
// dequantized codes, computed here from the quantizer's own output (quantize_weight, dequantize;
// both checked against the papers' code in quantizer_reference_test): a quantized table must
// give exactly those rows, so logits agree bit for bit (tolerance 0: the same fp32 values enter
// the same operations). The real backend's rows come from the kernels' dequantization, specified
// bit-identical to (code − zero)·scale in fp32, so they are compared exactly too; its logits are
// compared with the fake-quant model within 1e-4 (decode_loop_test's fp32 tolerance: summation
// order only).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/export/gguf_export.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/json_file.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/backends/backend_choice.h"
#include "slmq/quant/embedding_quant.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/packed_weight.h"
#include "slmq/quant/quant_method.h"
#include "support/gguf_python_view.h"
#include "support/single_thread.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

QuantConfig config(bool head, bool embedding) {
  YAML::Node q;
  q["method"] = "rtn";
  q["scheme"] = "w4a16";
  q["weight"]["group_size"] = 32;
  q["quantize_lm_head"] = head;
  q["quantize_embedding"] = embedding;
  return parse_quant_section(ConfigNode(q, "quant"));
}

std::unique_ptr<Model> tiny(const char* name) {
  return load_model(test::reference_dir("tiny_models") / name, {});
}

// Quantizes with RTN, then the embedding as `c` asks; returns the embedding block.
nlohmann::json quantize(Model& model, const QuantConfig& c) {
  make_quant_method("rtn")->run(model, c, nullptr);
  return quantize_embedding(model, c);
}

at::Tensor logits(const Model& model) {
  at::manual_seed(5);
  at::Tensor ids = at::randint(0, model.config().vocab_size, {2, 11}, at::kLong);
  return model.forward(ids, at::Tensor());
}

TEST(EmbeddingQuant, TiedModelSharesTheHeadCodes) {
  test::SingleThread one;
  auto model = tiny("llama_tied");
  const int64_t float_table_bytes = static_cast<int64_t>(model->embed_tokens().nbytes());
  auto reference = tiny("llama_tied");
  make_quant_method("rtn")->run(*reference, config(true, false), nullptr);
  const int64_t bytes_without = reference->summary().bytes;

  const nlohmann::json block = quantize(*model, config(true, true));
  EXPECT_EQ(block["storage"], "shared_with_lm_head");
  EXPECT_EQ(block["bytes_before"].get<int64_t>(), float_table_bytes);
  EXPECT_EQ(model->embed_tokens().defined(), false);  // the float table is gone
  // One copy of the codes serves both: the model is smaller by exactly the float table.
  EXPECT_EQ(model->summary().bytes, bytes_without - float_table_bytes);
  EXPECT_EQ(model->summary().parameters, reference->summary().parameters);

  // Reference: the head's dequantized weight as a float table.
  const auto* head =
      dynamic_cast<const FakeQuantLinear*>(reference->linears().back().second->get());
  ASSERT_NE(head, nullptr);
  const at::Tensor table = dequantize_packed(head->packed_weight());
  EXPECT_TRUE(model->embedding_table().equal(table));
  reference->set_embed_tokens(table);
  EXPECT_TRUE(logits(*model).equal(logits(*reference)));
}

TEST(EmbeddingQuant, UntiedModelGetsItsOwnTable) {
  test::SingleThread one;
  auto model = tiny("mistral_window");
  auto reference = tiny("mistral_window");
  const at::Tensor original = model->embed_tokens().clone();
  const nlohmann::json block = quantize(*model, config(false, true));
  EXPECT_EQ(block["storage"], "own");
  // 4-bit codes plus one fp32 scale per 32 weights: 0.5 + 4/32 bytes per weight.
  EXPECT_EQ(block["bytes_after"].get<int64_t>(), original.numel() / 2 + original.numel() / 32 * 4);
  EXPECT_GT(block["relative_error"].get<double>(), 0.0);

  make_quant_method("rtn")->run(*reference, config(false, false), nullptr);
  reference->set_embed_tokens(
      dequantize(quantize_weight(original, config(false, true).scheme.weight)));
  EXPECT_TRUE(logits(*model).equal(logits(*reference)));
}

TEST(EmbeddingQuant, RealBackendRowsEqualFakeRows) {
  test::SingleThread one;
  for (const char* name : {"mistral_window", "llama_tied"}) {
    auto fake = tiny(name);
    quantize(*fake, config(true, true));
    auto real = tiny(name);
    quantize(*real, config(true, true));
    apply_backend_choice(*real, BackendChoice::kReal);
    EXPECT_EQ(real->embedding_backend()->kind(), "cpu_w4a16") << name;
    const int64_t vocab = fake->config().vocab_size;
    at::Tensor ids = at::tensor({int64_t{0}, int64_t{7}, vocab - 1}, at::kLong).reshape({1, 3});
    EXPECT_TRUE(real->embed(ids).equal(fake->embed(ids))) << name;
    EXPECT_LE((logits(*real) - logits(*fake)).abs().max().item<double>(), 1e-4) << name;
  }
}

TEST(EmbeddingQuant, RefusesATiedTableWithAFloatHead) {
  auto model = tiny("llama_tied");
  auto reason = embedding_unsupported_reason(*model, config(false, true));
  ASSERT_NE(reason, std::nullopt);
  EXPECT_NE(reason->find("quantize_lm_head"), std::string::npos) << *reason;
  make_quant_method("rtn")->run(*model, config(false, true), nullptr);
  EXPECT_THROW(quantize_embedding(*model, config(false, true)), UnsupportedError);
  EXPECT_TRUE(model->embed_tokens().defined());
}

// compressed-tensors holds the quantized table dequantized (transformers cannot load a quantized
// Embedding): read back, the float table has the dequantized values and the logits are those of
// the model in memory, bit for bit.
TEST(EmbeddingQuant, CompressedTensorsStoresTheDequantizedTable) {
  test::SingleThread one;
  test::TempDir tmp;
  for (const char* name : {"llama_tied", "mistral_window"}) {
    const ModelSource source = open_model(test::reference_dir("tiny_models") / name);
    auto model = build_model(source.config, *source.weights, LoadOptions{});
    quantize(*model, config(true, true));
    const auto out = tmp.path() / name;
    export_compressed_tensors(*model, source, out);
    const nlohmann::json qc = read_json_file(out / "config.json")["quantization_config"];
    EXPECT_EQ(qc["config_groups"]["group_0"]["targets"], nlohmann::json({"Linear"})) << name;
    auto loaded = load_any_model(out, LoadOptions{});
    EXPECT_EQ(loaded->embedding_backend(), nullptr) << name;
    EXPECT_TRUE(loaded->embed_tokens().equal(model->embedding_table())) << name;
    EXPECT_TRUE(logits(*loaded).equal(logits(*model))) << name;
  }
}

// The GGUF file holds the shared table once, as a quantized token_embd, and no output tensor;
// the PyPI gguf package reads it as our reader does.
TEST(EmbeddingQuant, GgufHasAQuantizedTokenEmbdAndNoOutput) {
  test::TempDir tmp;
  // The tiny model with the GGUF export tests' tokenizer (the writer stores one).
  const auto dir = tmp.path() / "llama_tied";
  std::filesystem::copy(test::reference_dir("tiny_models") / "llama_tied", dir,
                        std::filesystem::copy_options::recursive);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(test::reference_dir("gguf_export") / "tokenizer" / f, dir / f);
  const ModelSource source = open_model(dir);
  auto model = build_model(source.config, *source.weights, LoadOptions{});
  YAML::Node q;
  q["method"] = "rtn";
  q["scheme"] = "w4a16";
  q["weight"]["group_size"] = 32;
  q["weight"]["flavour"] = "compressed_tensors";
  q["quantize_lm_head"] = true;
  q["quantize_embedding"] = true;
  quantize(*model, parse_quant_section(ConfigNode(q, "quant")));
  ASSERT_EQ(model->embedding_slot(), nullptr);  // shared
  const auto out = tmp.path() / "q.gguf";
  export_gguf(*model, source, out, GgufExportOptions{});
  test::expect_gguf_python_agrees(out);
  const io::GgufFile f = io::GgufFile::open(out);
  EXPECT_EQ(std::string(io::ggml_traits(f.require_tensor("token_embd.weight").type).name), "Q4_0");
  for (const auto& t : f.tensors()) EXPECT_NE(t.name, "output.weight");
}

}  // namespace
}  // namespace slmq

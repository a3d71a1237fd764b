// A rotated and quantized model saved as a compressed-tensors checkpoint (rotations folded, the
// online Hadamards and KV quantizers declared in config.json) loads back with identical outputs.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/export/compressed_tensors.h"
#include "slmq/io/json_file.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/quant_method.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

TEST(RotationCheckpoint, SavesDeclaresAndLoadsBackIdentically) {
  const auto dir = test::reference_dir("tiny_models") / "llama_tied";
  ModelSource source = open_model_source(dir);
  auto model = build_model(source.config, *source.weights, {at::kFloat, c10::Device(c10::kCPU)});
  const QuantConfig config = test::parse_quant_yaml(
      "method: quarot\nscheme: w4a16\nweight: {granularity: per_channel}\n"
      "kv: {k_bits: 4, v_bits: 4, group_size: 16}\nquarot: {weights: rtn}\n");
  make_quant_method("quarot")->run(*model, config, nullptr);
  const at::Tensor ids = at::arange(3, 23, at::kLong).view({2, 10});
  const at::Tensor before = model->forward(ids, at::Tensor());

  test::TempDir tmp;
  const auto out = tmp.path() / "ckpt";
  export_compressed_tensors(*model, source, out);
  const auto cfg = read_json_file(out / "config.json");
  EXPECT_FALSE(cfg["tie_word_embeddings"].get<bool>());
  ASSERT_TRUE(cfg.contains(kOnlineTransformsKey)) << cfg.dump();
  const auto& online = cfg[kOnlineTransformsKey];
  EXPECT_EQ(online["linears"]["mlp.down_proj"]["mode"], "full");
  EXPECT_EQ(online["linears"]["self_attn.o_proj"]["mode"], "across_heads");
  EXPECT_TRUE(online["attention"]["hadamard_qk"].get<bool>());

  auto loaded = load_any_model(out, {at::kFloat, c10::Device(c10::kCPU)});
  EXPECT_EQ(loaded->layer(0).linear(LinearRole::kDown)->kind(), "hadamard+fake_quant");
  ASSERT_NE(loaded->layer(0).attention_transform(), nullptr);
  // Same codes, scales, transforms and operations: bit-identical logits.
  EXPECT_TRUE(at::equal(loaded->forward(ids, at::Tensor()), before));
}

}  // namespace
}  // namespace slmq

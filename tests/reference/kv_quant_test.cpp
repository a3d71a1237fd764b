// KV-cache quantization (quant.kv) on the tiny models: keys and values land on the quantizer's
// grid per token (or per token and head), a cached decode reproduces the full forward (the cache
// holds the quantized keys and values, and per-token quantization does not depend on the other
// tokens), the effect on the logits is real, and every method gets the quantizers.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/core/error.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/quant_method.h"
#include "slmq/quant/rotation/hadamard.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::unique_ptr<Model> tiny(const char* name) {
  return load_model(test::reference_dir("tiny_models") / name,
                    {at::kFloat, c10::Device(c10::kCPU)});
}

int64_t max_distinct(const at::Tensor& rows) {
  int64_t worst = 0;
  for (int64_t i = 0; i < rows.size(0); ++i)
    worst = std::max(worst, std::get<0>(at::_unique(rows[i])).numel());
  return worst;
}

TEST(KvQuant, KeysAndValuesLandOnTheGridPerTokenOrHead) {
  const at::Tensor x = at::randn({2, 3, 7, 16}, seeded_cpu_generator(42));
  for (int64_t group : {int64_t{-1}, int64_t{16}}) {
    SCOPED_TRACE(group);
    KvQuantConfig kv{3, 3, group, false, 1.0};
    KvQuantTransform t(16, /*hadamard_qk=*/false, kv, QuantFlavour::kQuarot);
    const at::Tensor k = t.quantize_kv(x, 3, /*keys=*/true);
    const at::Tensor v = t.quantize_kv(x, 3, /*keys=*/false);
    ASSERT_EQ(k.sizes(), x.sizes());
    // Tokens over all heads [B·T, H·D], or each head's vector [B·H·T, D].
    const at::Tensor k_rows =
        group == -1 ? k.transpose(1, 2).reshape({14, 48}) : k.reshape({-1, 16});
    EXPECT_LE(max_distinct(k_rows), 8);
    const at::Tensor v_rows =
        group == -1 ? v.transpose(1, 2).reshape({14, 48}) : v.reshape({-1, 16});
    EXPECT_LE(max_distinct(v_rows), 8);
    EXPECT_GT((k - x).abs().max().item<double>(), 1e-3);
  }
}

TEST(KvQuant, CachedDecodeEqualsFullForwardAndChangesTheLogits) {
  auto model = tiny("llama_tied");
  const at::Tensor ids = at::randint(3, 384, {1, 10}, seeded_cpu_generator(42));
  const at::Tensor fp = model->forward(ids, at::Tensor());
  attach_kv_quantizers(*model, KvQuantConfig{4, 4, -1, false, 1.0}, QuantFlavour::kQuarot, false);
  const at::Tensor full = model->forward(ids, at::Tensor());
  KVCache cache = model->make_cache(1, 16);
  model->forward(ids.narrow(1, 0, 6), at::ones({1, 6}, at::kLong), &cache);
  double worst = 0;
  for (int64_t p = 6; p < 10; ++p) {
    const at::Tensor step =
        model->forward(ids.narrow(1, p, 1), at::ones({1, 1}, at::kLong), &cache);
    worst = std::max(worst, (step[0][0] - full[0][p]).abs().max().item<double>());
  }
  const double effect = (full - fp).abs().max().item<double>();
  std::cout << fmt::format("[kv] kv4: cached vs full max|dlogit| {:.3g}; vs FP {:.3g}\n", worst,
                           effect);
  // fp32 forwards over the same quantized keys and values: SDPA accumulation order only.
  EXPECT_LE(worst, 1e-4);
  EXPECT_GT(effect, 1e-2);
}

TEST(KvQuant, EveryMethodGetsTheQuantizers) {
  auto model = tiny("llama_tied");
  const QuantConfig config = test::parse_quant_yaml(
      "method: rtn\nscheme: w8a16\nkv: {k_bits: 4, v_bits: 8, group_size: 16}\n");
  EXPECT_EQ(config.kv.kv_bits(), 4);
  make_quant_method("rtn")->run(*model, config, nullptr);
  attach_method_kv_quantizers(*model, config);
  ASSERT_NE(model->layer(0).attention_transform(), nullptr);
  EXPECT_NE(model->layer(0).attention_transform()->describe().find("k4 v8"), std::string::npos);
}

// Another method's attention transform (OmniQuant's Q/K/V quantizers) would be replaced by the KV
// quantizers: refused, naming it, and left in place.
TEST(KvQuant, AnotherMethodsAttentionTransformIsRefusedNotReplaced) {
  struct Other final : AttentionTransform {
    std::string describe() const override { return "other q/k/v"; }
  };
  auto model = tiny("llama_tied");
  const QuantConfig config = test::parse_quant_yaml(
      "method: rtn\nscheme: w8a16\nkv: {k_bits: 4, v_bits: 4, group_size: 16}\n");
  make_quant_method("rtn")->run(*model, config, nullptr);
  for (int64_t i = 0; i < model->num_layers(); ++i)
    model->layer(i).set_attention_transform(std::make_shared<const Other>());
  try {
    attach_method_kv_quantizers(*model, config);
    ADD_FAILURE() << "no UnsupportedError";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("other q/k/v"), std::string::npos) << e.what();
  }
  EXPECT_EQ(model->layer(0).attention_transform()->describe(), "other q/k/v");
}

TEST(KvQuant, ConfigErrorsNameTheKey) {
  EXPECT_NE(test::quant_yaml_error("method: rtn\nkv: {k_bits: 9}\n").find("quant.kv.k_bits"),
            std::string::npos);
  EXPECT_NE(test::quant_yaml_error("method: rtn\nkv: {bits: 4}\n").find("quant.kv"),
            std::string::npos);
  auto model = tiny("llama_tied");
  EXPECT_TRUE(kv_unsupported_reason(*model, KvQuantConfig{4, 4, 32, false, 1.0}, false));
}

}  // namespace
}  // namespace slmq

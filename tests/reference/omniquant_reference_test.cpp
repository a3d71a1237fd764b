// OmniQuant against the reference of scripts/reference/gen_omniquant.py (written from
// specs/quant_methods.md §5/§8 and the structure of OpenGVLab/OmniQuant and LLMC): tiny GQA and
// MHA Llamas with outlier channels, the same calibration windows, two epochs of training per
// block, both flavours, weight-only and weight-activation schemes. Both sides compute the act
// scales from the same FP chain, so they start from the same LET scales.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/omniquant/omniquant.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using omniquant::Result;
using omniquant::Settings;

// fp64: both sides run the same operations on the same fp64 values (the RMSNorm's fp32 step
// included), so differences are a few ulps; 1e-6 relative leaves room for the orders of
// summation in which SDPA and the GEMMs may differ, and no rounding decision can flip at that
// distance on these weights.
constexpr double kFp64Relative = 1e-6;
// fp32: the same computation; measured on these cases (see the printed figures) the two sides
// agree bit for bit, but fp32 training is chaotic enough (the reference's own fp32 and fp64
// runs differ by up to 6% in the second epoch's losses) that a single differently ordered sum
// flips roundings. Bounds: relative 2e-2 on losses and learned parameters, 1% differing codes.
constexpr double kFp32Relative = 2e-2;
constexpr double kFp32MaxFlippedShare = 1e-2;

struct Case {
  std::string name, model;
  Settings settings;
};

QuantSpec spec_from(const nlohmann::json& j, QuantFlavour flavour, bool weight) {
  QuantSpec s;
  s.bits = j["bits"].get<int>();
  s.symmetric = j["symmetric"].get<bool>();
  s.flavour = flavour;
  if (weight) {
    const int64_t group = j["group_size"].get<int64_t>();
    s.granularity = group > 0 ? Granularity::kPerGroup : Granularity::kPerChannel;
    s.group_size = group;
  } else {
    s.granularity = Granularity::kPerToken;
  }
  return s;
}

std::vector<Case> cases() {
  const auto j = read_json_file(test::reference_dir("omniquant") / "cases.json");
  std::vector<Case> out;
  for (const auto& c : j["cases"]) {
    Case k{c["name"].get<std::string>(), c["model"].get<std::string>(), {}};
    OmniquantOptions& o = k.settings.options;
    o.variant = c["flavour"] == "llmc" ? OmniFlavour::kLlmc : OmniFlavour::kOfficial;
    o.lwc = c["lwc"].get<bool>();
    o.let = c["let"].get<bool>();
    o.aug_loss = c["aug_loss"].get<bool>();
    o.epochs = c["epochs"].get<int64_t>();
    o.alpha = c["alpha"].get<double>();
    o.lwc_lr = c["lwc_lr"].get<double>();
    o.let_lr = c["let_lr"].get<double>();
    o.batch_size = c["batch_size"].get<int64_t>();
    const QuantFlavour f = o.quantizer_flavour();
    k.settings.scheme.weight = spec_from(c["weight"], f, true);
    if (!c["activation"].is_null())
      k.settings.scheme.activation = spec_from(c["activation"], f, false);
    k.settings.keep_parameters = true;
    out.push_back(std::move(k));
  }
  return out;
}

Result run_case(const Case& c, c10::ScalarType dtype) {
  const auto dir = test::reference_dir("omniquant");
  auto model = load_model(dir / c.model, {.dtype = dtype});
  const at::Tensor ids =
      SafetensorsFile::open(dir / c.model / "calib.safetensors").load("calib_ids");
  at::Tensor inputs;
  {
    c10::AutoGradMode no_grad(false);
    inputs = model->embed(ids);
  }
  return omniquant::quantize_blocks(*model, inputs, c.settings);
}

double max_relative(const at::Tensor& got, const at::Tensor& want) {
  const at::Tensor w = want.to(at::kDouble);
  return ((got.to(at::kDouble) - w).abs() / w.abs().clamp_min(1e-12)).max().item<double>();
}

struct Comparison {
  double loss = 0, params = 0;  // max relative differences
  std::string worst_param;
  int64_t codes = 0, flipped = 0;
  int64_t parameters_compared = 0;
};

Comparison compare(const Result& r, const SafetensorsFile& ref) {
  Comparison c;
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    const auto& b = r.blocks[i];
    const std::string p = fmt::format("layers.{}.", i);
    c.loss = std::max(c.loss, max_relative(at::tensor(b.training.step_loss, at::kDouble),
                                           ref.load(p + "step_loss")));
    c.loss = std::max(c.loss, max_relative(at::tensor(b.training.epoch_loss, at::kDouble),
                                           ref.load(p + "epoch_loss")));
    for (const auto& t : ref.tensors()) {
      if (t.name.rfind(p, 0) != 0) continue;
      const std::string key = t.name.substr(p.size());
      if (key == "step_loss" || key == "epoch_loss") continue;
      if (key.size() > 6 && key.substr(key.size() - 6) == ".codes") {
        const std::string linear = key.substr(0, key.size() - 6);
        const auto it = b.quantized.find(linear);
        EXPECT_NE(it, b.quantized.end()) << t.name;
        if (it == b.quantized.end()) continue;
        const at::Tensor want = ref.load(t.name);
        c.codes += want.numel();
        c.flipped += (it->second.codes.to(at::kLong) != want).sum().item<int64_t>();
        continue;
      }
      if (key.size() > 7 && key.substr(key.size() - 7) == ".scales") continue;
      const auto it = b.parameters.find(key);
      EXPECT_NE(it, b.parameters.end()) << "slmquant has no " << t.name;
      if (it == b.parameters.end()) continue;
      const double rel = max_relative(it->second, ref.load(t.name));
      ++c.parameters_compared;
      if (rel > c.params) {
        c.params = rel;
        c.worst_param = t.name;
      }
    }
    for (const auto& [key, value] : b.parameters)
      EXPECT_NE(ref.find(p + key), nullptr) << "the reference has no " << p + key;
  }
  return c;
}

void report(const std::string& label, const Case& k, const Comparison& c) {
  std::cout << fmt::format(
      "[omniquant] {:<24} {}: losses max rel diff {:.2g}; {} parameter tensors, max rel diff "
      "{:.2g} ({}); integer weights differing {} of {} ({:.3g}%)\n",
      k.name, label, c.loss, c.parameters_compared, c.params, c.worst_param, c.flipped, c.codes,
      100.0 * static_cast<double>(c.flipped) / static_cast<double>(std::max<int64_t>(c.codes, 1)));
}

TEST(OmniquantReference, Fp64TrainingMatchesTheReference) {
  const auto dir = test::reference_dir("omniquant");
  int n = 0;
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    const Result r = run_case(k, at::kDouble);
    const Comparison c = compare(r, SafetensorsFile::open(dir / k.name / "fp64.safetensors"));
    report("fp64", k, c);
    EXPECT_LE(c.loss, kFp64Relative);
    EXPECT_LE(c.params, kFp64Relative) << c.worst_param;
    EXPECT_GT(c.parameters_compared, 0);
    EXPECT_GT(c.codes, 0);
    EXPECT_EQ(c.flipped, 0);
    ++n;
  }
  EXPECT_EQ(n, 5);
}

TEST(OmniquantReference, Fp32TrainingStaysCloseToTheReference) {
  const auto dir = test::reference_dir("omniquant");
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    const Result r = run_case(k, at::kFloat);
    const Comparison c = compare(r, SafetensorsFile::open(dir / k.name / "fp32.safetensors"));
    report("fp32", k, c);
    EXPECT_LE(c.loss, kFp32Relative);
    EXPECT_LE(c.params, kFp32Relative) << c.worst_param;
    EXPECT_LE(static_cast<double>(c.flipped), kFp32MaxFlippedShare * static_cast<double>(c.codes));
  }
}

// The transforms each case ran: GQA skips s_out and s_qk as LLMC does; LLMC trains v_proj
// without s_qkv there; the official flavour quantizes Q/K/V with quantized activations.
TEST(OmniquantReference, TransformPlanFollowsTheArchitecture) {
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    const auto dir = test::reference_dir("omniquant");
    auto model = load_model(dir / k.model, {});
    Settings s = k.settings;
    s.options.epochs = 0;
    const at::Tensor ids =
        SafetensorsFile::open(dir / k.model / "calib.safetensors").load("calib_ids");
    at::Tensor inputs;
    {
      c10::AutoGradMode no_grad(false);
      inputs = model->embed(ids);
    }
    const Result r = omniquant::quantize_blocks(*model, inputs, s);
    const bool gqa = model->config().num_kv_heads != model->config().num_heads;
    const auto plan = r.plan.to_json();
    EXPECT_EQ(plan["skipped"].contains("s_out"), gqa);
    EXPECT_EQ(plan["skipped"].contains("s_qk"), gqa);
    EXPECT_EQ(plan["v_unscaled_in_training"].get<bool>(),
              gqa && k.settings.options.variant == OmniFlavour::kLlmc);
    EXPECT_EQ(r.qkv_quantized, k.settings.options.variant == OmniFlavour::kOfficial &&
                                   k.settings.scheme.activation.has_value());
    EXPECT_EQ(model->layer(0).attention_transform() != nullptr, r.qkv_quantized);
  }
}

}  // namespace
}  // namespace slmq

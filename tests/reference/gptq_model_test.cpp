// Calibration sampling and layer-by-layer GPTQ against scripts/reference/gen_gptq_model.py:
// (1) the token windows of every sampling rule equal those of Python ports of the reference
// samplers (CPython random, HF tokenizers), id for id; (2) GptqMethod on a tiny random Llama
// gives the integer codes, scales and zero points of a faithful port of IST-DASLab llama.py's
// llama_sequential run on the HF model with the same windows (per channel, groups of 32 / 64 /
// 128 with a 128-column block, act-order, static groups, true-sequential).
//
// Both sides run the same libtorch kernels single-threaded, one sequence per layer forward as
// llama.py does (calibration batch_size 1), so the captured activations, Hessians and the fp32
// error propagation are bit-identical: codes, scales and zero points must be equal, not close
// (measured: 0 differing codes of 294912 per case). A larger capture batch changes only fp32
// summation order; that is checked separately with a stated tolerance.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <iostream>

#include "slmq/calib/calibration_data.h"
#include "slmq/config/config_node.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/method_registry.h"
#include "slmq/quant/quant_method.h"
#include "slmq/tokenizer/tokenizer.h"
#include "support/quant_config.h"
#include "support/single_thread.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

const std::filesystem::path kData = std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data";

CalibrationConfig window_config(const nlohmann::json& c) {
  std::string yaml = fmt::format("{{source: {}, sampling: {}, nsamples: {}, seqlen: {}, seed: {}",
                                 c["source"].get<std::string>(), c["sampling"].get<std::string>(),
                                 c["nsamples"].get<int64_t>(), c["seqlen"].get<int64_t>(),
                                 c["seed"].get<int64_t>());
  if (c.contains("max_document_tokens"))
    yaml += fmt::format(", max_document_tokens: {}", c["max_document_tokens"].get<int64_t>());
  return parse_calibration_section(ConfigNode(YAML::Load(yaml + "}"), "calibration"),
                                   default_calibration("gptq"));
}

CalibrationWindows cpp_windows(const nlohmann::json& c) {
  const Tokenizer tok =
      Tokenizer::from_file(kData / "tokenizers" / c["tokenizer"].get<std::string>());
  return build_calibration_windows(window_config(c), tok, kData);
}

TEST(CalibrationWindowsReference, EveryRuleGivesThePythonReferenceWindows) {
  const auto dir = test::reference_dir("gptq_model");
  auto ref = SafetensorsFile::open(dir / "windows.safetensors");
  for (const auto& c : read_json_file(dir / "windows.json")) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    CalibrationWindows w = cpp_windows(c);
    const at::Tensor expected = ref.load(name + ".ids");
    ASSERT_EQ(w.ids.sizes(), expected.sizes());
    EXPECT_TRUE(at::equal(w.ids, expected)) << "window ids differ";
    if (c["sampling"] == "truncated_documents") {
      ASSERT_TRUE(w.mask.defined());
      EXPECT_TRUE(at::equal(w.mask, ref.load(name + ".mask"))) << "masks differ";
    }
  }
}

QuantConfig gptq_config(const nlohmann::json& c) {
  const int64_t g = c["group_size"];
  std::string yaml = fmt::format(
      "{{method: gptq, scheme: w4a16, weight: {{bits: {}, symmetric: {}, {}, flavour: gptq}}, "
      "gptq: {{act_order: {}, static_groups: {}, true_sequential: {}}}, "
      "calibration: {{batch_size: 1}}}}",
      c["bits"].get<int>(), c["symmetric"].get<bool>(),
      g > 0 ? fmt::format("group_size: {}", g) : std::string("granularity: per_channel"),
      c.value("act_order", false), c.value("static_groups", false),
      c.value("true_sequential", false));
  return test::parse_quant_yaml(yaml);
}

// The c4_model windows from slmquant's sampler, reduced to the tiny vocabulary as the generator
// reduces its own.
CalibrationData model_calibration(const std::filesystem::path& dir) {
  nlohmann::json window_case;
  for (const auto& c : read_json_file(dir / "windows.json")) {
    if (c["name"] == "c4_model") window_case = c;
  }
  CalibrationData calib;
  calib.windows = cpp_windows(window_case);
  calib.windows.ids = calib.windows.ids.remainder(384);  // the tiny vocabulary, as the generator
  auto windows_ref = SafetensorsFile::open(dir / "windows.safetensors");
  EXPECT_TRUE(at::equal(calib.windows.ids, windows_ref.load("c4_model.ids").remainder(384)));
  return calib;
}

TEST(GptqModelReference, LayerwiseGptqMatchesTheOriginalSequentialLoop) {
  test::SingleThread one_thread;
  const auto dir = test::reference_dir("gptq_model");
  auto ref = SafetensorsFile::open(dir / "gptq.safetensors");
  CalibrationData calib = model_calibration(dir);
  for (const auto& c : read_json_file(dir / "gptq_cases.json")) {
    const std::string case_name = c["name"];
    SCOPED_TRACE(case_name);
    QuantConfig config = gptq_config(c);
    calib.config = config.calibration;
    auto model = load_model(dir / "model", {});
    auto method = make_quant_method("gptq");
    ASSERT_FALSE(method->unsupported_reason(*model, config));
    QuantReport report = method->run(*model, config, &calib);
    int64_t codes = 0, flipped = 0, checked = 0;
    for (const auto& [name, linear] : static_cast<const Model&>(*model).linears()) {
      if (name == "lm_head") continue;
      const auto* fq = dynamic_cast<const FakeQuantLinear*>(linear);
      ASSERT_NE(fq, nullptr) << name;
      const std::string key = case_name + "/" + name;
      const at::Tensor ref_codes = ref.load(key + ".codes").to(at::kInt);
      const at::Tensor diff = (fq->weight().codes.to(at::kInt) - ref_codes).abs();
      codes += diff.numel();
      flipped += diff.ne(0).sum().item<int64_t>();
      EXPECT_TRUE(at::equal(fq->weight().scales, ref.load(key + ".scale"))) << key;
      // Symmetric specs store their constant zero point once.
      const at::Tensor zeros = fq->weight().zeros.expand(fq->weight().scales.sizes());
      EXPECT_TRUE(at::equal(zeros, ref.load(key + ".zero"))) << key;
      ++checked;
    }
    EXPECT_EQ(checked, 14);
    std::cout << "[gptq_model] " << case_name << ": " << flipped << " of " << codes
              << " codes differ\n";
    EXPECT_EQ(flipped, 0);
  }
}

// Batching 4 sequences per layer forward (and per Hessian update) changes only the fp32
// summation order of H = 2/N Σ x xᵀ (relative ~1e-7); a weight whose scaled value lies that
// close to a rounding boundary may round the other way, and its error feedback then shifts later
// columns of its row. Allowed: at most 1% of codes, each by at most one step after the cascade
// (measured: see the printed count).
TEST(GptqModelReference, BatchedCaptureDiffersOnlyByRoundingTies) {
  test::SingleThread one_thread;
  const auto dir = test::reference_dir("gptq_model");
  auto ref = SafetensorsFile::open(dir / "gptq.safetensors");
  CalibrationData calib = model_calibration(dir);
  for (const auto& c : read_json_file(dir / "gptq_cases.json")) {
    if (c["name"] != "group64") continue;
    QuantConfig config = gptq_config(c);
    config.calibration.batch_size = 4;
    calib.config = config.calibration;
    auto model = load_model(dir / "model", {});
    make_quant_method("gptq")->run(*model, config, &calib);
    int64_t codes = 0, flipped = 0, worst = 0;
    for (const auto& [name, linear] : static_cast<const Model&>(*model).linears()) {
      if (name == "lm_head") continue;
      const auto* fq = dynamic_cast<const FakeQuantLinear*>(linear);
      const at::Tensor diff =
          (fq->weight().codes.to(at::kInt) - ref.load("group64/" + name + ".codes").to(at::kInt))
              .abs();
      codes += diff.numel();
      flipped += diff.ne(0).sum().item<int64_t>();
      worst = std::max<int64_t>(worst, diff.max().item<int>());
    }
    std::cout << "[gptq_model] group64 batch 4: " << flipped << " of " << codes
              << " codes differ, max " << worst << " step(s)\n";
    EXPECT_LE(static_cast<double>(flipped), 0.01 * static_cast<double>(codes));
    EXPECT_LE(worst, 1);
  }
}

}  // namespace
}  // namespace slmq

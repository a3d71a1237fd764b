// OmniQuant from the two front ends on SmolLM2-135M (GGUF, its own tokenizer), with a calibration
// small enough for the default test run (one C4 window of 16 tokens, one epoch: 30 optimizer
// steps): `slmquant quantize --method omniquant` in the official flavour and `slmquant run` with a
// `quant.omniquant:` block in the LLMC flavour. Both reach the method through the registry, draw
// the reference's seed 2, skip the MHA-only transforms on this GQA model and record the training.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

const std::filesystem::path kRoot = SLMQ_SOURCE_DIR;

std::string smollm2() { return (kRoot / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf").string(); }

std::string c4() { return (kRoot / "assets/data/calibration/c4/c4_validation_2k.jsonl").string(); }

// The parts of an OmniQuant report both flavours share on SmolLM2 (30 layers, GQA).
void expect_trained_on_gqa(const nlohmann::json& q, const std::string& flavour) {
  EXPECT_EQ(q["method"], "omniquant");
  EXPECT_EQ(q["config"]["omniquant"]["flavour"], flavour);
  EXPECT_EQ(q["config"]["calibration"]["seed"], 2);  // the registration's default
  const auto& d = q["details"];
  EXPECT_EQ(d["training"]["optimizer_steps"], 30);  // one window, one epoch, 30 layers
  EXPECT_TRUE(d["training"]["nonfinite_loss_layers"].empty());
  EXPECT_EQ(d["transforms"]["let_transforms"]["applied"],
            nlohmann::json::array({"s_qkv", "s_fc1"}));
  EXPECT_TRUE(d["transforms"]["let_transforms"]["skipped"].contains("s_out"));
  EXPECT_TRUE(d["transforms"]["let_transforms"]["skipped"].contains("s_qk"));
  ASSERT_EQ(d["blocks"].size(), 30u);
  for (const auto& b : d["blocks"]) {
    const double loss = b["epoch_loss"][0];
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_GT(loss, 0);
  }
}

TEST(CliQuantizeOmniquant, OfficialFlavourFromTheQuantizeCommand) {
  auto r = test::run_cli("quantize " + smollm2() +
                         " --method omniquant --scheme w4a8 --set activation.symmetric=false "
                         "--set omniquant.epochs=1 --calib " +
                         c4() + " --nsamples 1 --seqlen 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto q = nlohmann::json::parse(r.out);
  expect_trained_on_gqa(q, "official");
  // The official flavour quantizes Q, K (after RoPE) and V too when activations are quantized.
  EXPECT_EQ(q["details"]["transforms"]["qkv_activation_quantizer"], true);
  EXPECT_EQ(q["config"]["weight"]["flavour"], "omniquant");
  for (const char* phase : {"act_scales", "fp_targets", "training", "folding", "quantized_chain"})
    EXPECT_TRUE(q["cost"]["phase_seconds"].contains(phase)) << phase;
}

TEST(CliQuantizeOmniquant, LlmcFlavourFromARunConfig) {
  test::TempDir dir;
  const auto config = dir.path() / "omni.yaml";
  std::ofstream(config) << "model: {path: " << smollm2() << ", device: cpu}\n"
                        << "quant: {method: omniquant, scheme: w8a8, omniquant: {flavour: llmc, "
                           "epochs: 1}, calibration: {source: "
                        << c4() << ", nsamples: 1, seqlen: 16}}\n";
  auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "res").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto result = read_json_file(dir.path() / "res" / "omni.json");
  ASSERT_EQ(result["status"], "ok") << result.dump();
  const auto& q = result["quant"];
  expect_trained_on_gqa(q, "llmc");
  // LLMC: linear inputs only, and its IntegerQuantizer formulas.
  EXPECT_EQ(q["details"]["transforms"]["qkv_activation_quantizer"], false);
  EXPECT_EQ(q["config"]["weight"]["flavour"], "llmc");
  EXPECT_TRUE(result["quant_cost"]["phase_seconds"].contains("training"));
}

}  // namespace
}  // namespace slmq

// SmolLM2-135M-Instruct quantized (RTN W4A16 g64, W8A8), written as compressed-tensors
// checkpoints and loaded back: the reloaded model's logits are bit-identical to the in-memory
// quantized model's. Prints checkpoint sizes and save / load times.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <iostream>

#include "slmq/config/config_node.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/quant_method.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

TEST(CompressedTensorsSmolLM2, SaveAndLoadBackGiveBitIdenticalLogits) {
  const auto gguf =
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  test::TempDir dir;
  at::manual_seed(0);
  const at::Tensor ids = at::randint(3, 49152, {2, 32}, at::kLong);
  for (const char* quant :
       {"{method: rtn, scheme: w4a16, weight: {group_size: 64}}", "{method: rtn, scheme: w8a8}"}) {
    SCOPED_TRACE(quant);
    const QuantConfig config = parse_quant_section(ConfigNode(YAML::Load(quant), "quant"));
    ModelSource source = open_model_source(gguf);
    auto model = build_model(source.config, *source.weights, {});
    make_quant_method("rtn")->run(*model, config, nullptr);
    const auto out = dir.path() / (config.scheme.activation ? "w8a8" : "w4a16");
    auto t0 = Clock::now();
    export_compressed_tensors(*model, source, out);
    const double save_s = seconds_since(t0);
    t0 = Clock::now();
    auto loaded = load_any_model(out, {});
    const double load_s = seconds_since(t0);
    EXPECT_TRUE(at::equal(loaded->forward(ids, {}), model->forward(ids, {})));
    EXPECT_EQ(loaded->summary().bytes, model->summary().bytes);
    std::cout << fmt::format(
        "[compressed-tensors] smollm2-135m {}: model.safetensors {} bytes, save {:.2f} s, load "
        "{:.2f} s, in-memory {} bytes\n",
        out.filename().string(), std::filesystem::file_size(out / "model.safetensors"), save_s,
        load_s, model->summary().bytes);
  }
}

}  // namespace
}  // namespace slmq

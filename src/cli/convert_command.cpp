// `slmquant convert MODEL --out DIR [--dtype float32]`: a GGUF (or HF folder) written as an HF
// checkpoint folder that transformers loads. `--out FILE.gguf`: any model slmquant loads (HF,
// compressed-tensors, GGUF) written as a GGUF file llama.cpp runs (export/gguf_export.h).
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "slmq/core/dtype.h"
#include "slmq/export/gguf_export.h"
#include "slmq/export/hf_folder.h"
#include "slmq/pipeline/model_open.h"

namespace slmq::cli {
namespace {

struct ConvertArgs {
  std::string model;
  std::string out;
  std::string dtype = "float32";
  bool gguf_requantize = false;
};

// Unquantized tensors in the --dtype's GGUF type; quantized linears as exact blocks.
void convert_to_gguf(const ConvertArgs& args) {
  const c10::ScalarType dtype = parse_compute_dtype(args.dtype, "--dtype");
  GgufExportOptions options;
  options.dense_type = parse_gguf_dense_type(dtype_name(dtype), "--dtype");
  options.requantize = args.gguf_requantize;
  const ModelSource source = open_model(args.model);
  // Loaded in fp32 whatever --dtype says: the cast happens once, when the file is written.
  auto model =
      build_model(source.config, *source.weights, LoadOptions{}, source.linear_loader.get());
  const GgufExportReport report = export_gguf(*model, source, args.out, options);
  for (const auto& note : report.notes) spdlog::warn("gguf: {}", note);
}

const RegisterCommand kConvert{
    "convert", "Write a model as an HF checkpoint folder or a GGUF file", [](CLI::App& app) {
      auto args = std::make_shared<ConvertArgs>();
      app.add_option("MODEL", args->model, ".gguf file or HF checkpoint folder")->required();
      app.add_option("--out", args->out, "output folder (must not exist or be empty), or FILE.gguf")
          ->required();
      app.add_option("--dtype", args->dtype,
                     "tensor dtype: float32, bfloat16, float16 (GGUF: of the unquantized tensors "
                     "but norms)")
          ->capture_default_str();
      app.add_flag("--gguf-requantize", args->gguf_requantize,
                   "GGUF: requantize quantized weights no ggml block stores exactly");
      return [args] {
        if (std::filesystem::path(args->out).extension() == ".gguf") {
          convert_to_gguf(*args);
        } else {
          c10::ScalarType dtype = parse_compute_dtype(args->dtype, "--dtype");
          export_hf_folder(open_model(args->model), args->out, dtype);
        }
        std::cout << args->out << "\n";
        return 0;
      };
    }};

}  // namespace
}  // namespace slmq::cli

// `slmquant convert MODEL --out DIR [--dtype float32]`: a GGUF (or HF folder) written as an HF
// checkpoint folder that transformers loads.
#include <iostream>
#include <memory>

#include "command.h"
#include "slmq/core/dtype.h"
#include "slmq/export/hf_folder.h"
#include "slmq/pipeline/model_open.h"

namespace slmq::cli {
namespace {

struct ConvertArgs {
  std::string model;
  std::string out;
  std::string dtype = "float32";
};

const RegisterCommand kConvert{
    "convert", "Write a GGUF or HF model as an HF checkpoint folder", [](CLI::App& app) {
      auto args = std::make_shared<ConvertArgs>();
      app.add_option("MODEL", args->model, ".gguf file or HF checkpoint folder")->required();
      app.add_option("--out", args->out, "output folder (must not exist or be empty)")->required();
      app.add_option("--dtype", args->dtype, "tensor dtype: float32, bfloat16, float16")
          ->capture_default_str();
      return [args] {
        c10::ScalarType dtype = parse_compute_dtype(args->dtype, "--dtype");
        export_hf_folder(open_model(args->model), args->out, dtype);
        std::cout << args->out << "\n";
        return 0;
      };
    }};

}  // namespace
}  // namespace slmq::cli

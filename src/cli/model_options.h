#pragma once
// The options every command that loads a model shares.
#include <CLI/CLI.hpp>

#include <string>

#include "slmq/core/dtype.h"
#include "slmq/model/model_loader.h"

namespace slmq::cli {

struct ModelOptions {
  std::string path;
  std::string dtype = "float32";
  std::string device = "auto";

  void add_to(CLI::App& app) {
    app.add_option("MODEL", path, "HF checkpoint folder (config.json + safetensors) or .gguf file")
        ->required();
    app.add_option("--dtype", dtype, "compute dtype: float32, bfloat16, float16")
        ->capture_default_str();
    app.add_option("--device", device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  }

  LoadOptions load_options() const {
    return {parse_compute_dtype(dtype, "--dtype"), parse_device(device, "--device")};
  }
};

}  // namespace slmq::cli

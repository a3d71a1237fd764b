#pragma once
// The options every command that loads a model shares.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "slmq/core/dtype.h"
#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/backends/backend_choice.h"

namespace slmq::cli {

struct ModelOptions {
  std::string path;
  std::string dtype = "float32";
  std::string device = "auto";
  std::string backend = "auto";
  std::string kv_cache = "float";

  void add_to(CLI::App& app) {
    app.add_option("MODEL", path, "HF checkpoint folder (config.json + safetensors) or .gguf file")
        ->required();
    app.add_option("--dtype", dtype, "compute dtype: float32, bfloat16, float16")
        ->capture_default_str();
    app.add_option("--device", device, "cpu, cuda, cuda:N or auto")->capture_default_str();
    app.add_option("--backend", backend,
                   "quantized linears: fake (dequantize, float matmul), real (integer kernels; an "
                   "error where a layer has none), auto (real where one exists)")
        ->capture_default_str();
    app.add_option("--kv-cache", kv_cache,
                   "KV-cache storage: float (the compute dtype) or int8 (packed codes with a scale "
                   "per 32 elements, as llama.cpp's q8_0 cache)")
        ->capture_default_str();
  }

  // The model at `path` (every checkpoint format) with its quantized linears on the chosen
  // backends.
  std::unique_ptr<Model> load() const {
    const BackendChoice choice = parse_backend_choice(backend, "--backend");
    auto model = load_any_model(path, load_options());
    apply_backend_choice(*model, choice);
    model->set_kv_storage(parse_kv_storage(kv_cache, "--kv-cache"));
    return model;
  }

  LoadOptions load_options() const {
    return {parse_compute_dtype(dtype, "--dtype"), parse_device(device, "--device")};
  }
};

}  // namespace slmq::cli

#include "slmq/export/hf_folder.h"

#include <ATen/ATen.h>

#include "slmq/core/atomic_file.h"
#include "slmq/core/dtype.h"
#include "slmq/core/error.h"
#include "slmq/export/atomic_folder.h"
#include "slmq/io/safetensors.h"

namespace slmq {
namespace {

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  write_file_atomically(path,
                        j.dump(2, ' ', false, nlohmann::json::error_handler_t::strict) + "\n");
}

}  // namespace

void export_hf_folder(const ModelSource& source, const std::filesystem::path& out,
                      c10::ScalarType dtype) {
  if (source.linear_loader) {
    // Its packed integer tensors would be cast to `dtype` like weights.
    throw UnsupportedError("'" + source.path.string() +
                           "' is a quantized (compressed-tensors) checkpoint; convert writes "
                           "full-precision checkpoints from full-precision sources");
  }
  AtomicFolder folder(out);
  const auto& tmp = folder.path();

  nlohmann::json config = source.hf_config;
  config["dtype"] = dtype_name(dtype);
  config.erase("torch_dtype");
  write_json(tmp / "config.json", config);
  if (!source.tokenizer.is_null()) write_json(tmp / "tokenizer.json", source.tokenizer);
  if (!source.tokenizer_config.is_null())
    write_json(tmp / "tokenizer_config.json", source.tokenizer_config);

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& name : source.weights->names()) {
    tensors.emplace_back(name, source.weights->load(name).to(dtype));
  }
  write_safetensors(tmp / "model.safetensors", tensors, {{"format", "pt"}});
  folder.commit();
}

}  // namespace slmq

#include "slmq/pipeline/model_open.h"

#include "slmq/export/compressed_tensors.h"

namespace slmq {

const QuantizedFormats& quantized_checkpoint_formats() {
  static const QuantizedFormats kFormats = make_ct_linear_loader;
  return kFormats;
}

ModelSource open_model(const std::filesystem::path& path) {
  return open_model_source(path, quantized_checkpoint_formats());
}

std::unique_ptr<Model> load_any_model(const std::filesystem::path& path,
                                      const LoadOptions& options) {
  return load_model(path, options, quantized_checkpoint_formats());
}

}  // namespace slmq

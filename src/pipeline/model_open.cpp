#include "slmq/pipeline/model_open.h"

#include "slmq/export/compressed_tensors.h"

namespace slmq {

const QuantizedFormats& quantized_checkpoint_formats() {
  static const QuantizedFormats kFormats = [](const nlohmann::json& hf_config,
                                              const std::string& where) {
    return make_ct_linear_loader(hf_config.at("quantization_config"), where,
                                 hf_config.value(kOnlineTransformsKey, nlohmann::json()));
  };
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

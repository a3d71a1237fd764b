// The config.json of a compressed-tensors checkpoint, read as the model loader reads it: the
// file through read_json_file, the model hyper-parameters through parse_hf_config and, on its
// own (so that a config the model part refuses still reaches it), the quantization_config
// parsed into config groups, with every "re:" target compiled. Not covered: matching module
// names against the targets (the loader's, in a torch file).
#include "fuzz_common.h"
#include "slmq/export/compressed_tensors_config.h"
#include "slmq/io/json_file.h"
#include "slmq/model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slmq::fuzz::write_input("config.json", slmq::fuzz::as_text(data, size));
  nlohmann::json config;
  slmq::fuzz::guarded([&] { config = slmq::read_json_file(path); });
  if (!config.is_object()) return 0;
  slmq::fuzz::guarded([&] { (void)slmq::parse_hf_config(config, path.string()); });
  if (!config.contains("quantization_config")) return 0;
  return slmq::fuzz::guarded([&] {
    (void)slmq::ct::parse_quantization_config(config["quantization_config"], path.string());
  });
}

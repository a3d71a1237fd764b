#include "slmq/quant/smoothquant_options.h"

#include "slmq/config/config_node.h"

namespace slmq {

std::string to_string(SmoothVariant v) {
  return v == SmoothVariant::kLlmCompressor ? "llm_compressor" : "smoothquant";
}

nlohmann::json SmoothQuantOptions::to_json() const {
  return {{"alpha", alpha},
          {"variant", to_string(variant)},
          {"quantize_bmm_input", quantize_bmm_input}};
}

std::optional<QuantFlavour> SmoothQuantOptions::flavour() const {
  if (variant == SmoothVariant::kLlmCompressor) return QuantFlavour::kCompressedTensors;
  return std::nullopt;
}

SmoothQuantOptions parse_smoothquant_section(const ConfigNode& node, SmoothQuantOptions o) {
  node.allow_only({"alpha", "variant", "quantize_bmm_input"});
  o.alpha = node.get_double("alpha", o.alpha);
  if (!(o.alpha >= 0 && o.alpha <= 1)) node.fail("alpha", "must be in [0, 1]");
  const std::string variant =
      node.get_choice("variant", to_string(o.variant), {"smoothquant", "llm_compressor"});
  o.variant =
      variant == "llm_compressor" ? SmoothVariant::kLlmCompressor : SmoothVariant::kSmoothQuant;
  o.quantize_bmm_input = node.get_bool("quantize_bmm_input", o.quantize_bmm_input);
  return o;
}

}  // namespace slmq

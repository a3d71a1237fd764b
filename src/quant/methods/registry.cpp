#include "slmq/quant/method_registry.h"

#include "slmq/core/error.h"
#include "slmq/quant/awq_options.h"
#include "slmq/quant/gptq_options.h"
#include "slmq/quant/methods/factories.h"
#include "slmq/quant/omniquant/options.h"
#include "slmq/quant/rotation/rotation_options.h"
#include "slmq/quant/smoothquant_options.h"

namespace slmq {
namespace {

// GPTQ get_c4 (llama.py): random documents, 128 windows of 2048 tokens, seed 0, each layer's
// inputs from the layer as quantized.
CalibrationConfig gptq_calibration() { return CalibrationConfig{}; }

// SmoothQuant get_act_scales: the first 512 shuffled documents truncated to 512 tokens, seed 42;
// statistics of the full-precision model.
CalibrationConfig smoothquant_calibration() {
  CalibrationConfig c;
  c.sampling = CalibSampling::kTruncatedDocuments;
  c.nsamples = 512;
  c.seqlen = 512;
  c.seed = 42;
  c.propagate_quantized = false;
  return c;
}

// llm-awq get_calib_dataset: 128 documents packed into blocks of 512, seed 42; run_awq feeds each
// layer the full-precision layer's outputs.
CalibrationConfig awq_calibration() {
  CalibrationConfig c;
  c.sampling = CalibSampling::kPackedDocuments;
  c.nsamples = 128;
  c.seqlen = 512;
  c.seed = 42;
  c.propagate_quantized = false;
  return c;
}

// OmniQuant main.py: 128 random 2048-token windows, seed 2, each block trained on the quantized
// chain's inputs (quant_out). The reference samples WikiText-2 train; our default source is the
// C4 slice (see docs/quantizers.md).
CalibrationConfig omniquant_calibration() {
  CalibrationConfig c;
  c.seed = 2;
  return c;
}

std::vector<QuantMethodInfo> registered_methods() {
  return {
      {.name = "rtn",
       .flavour = QuantFlavour::kCompressedTensors,  // llm-compressor's QuantizationModifier
       .calibration = std::nullopt,
       .make = make_rtn_method,
       .parse_options = nullptr},
      {.name = "gptq",
       .flavour = QuantFlavour::kGptq,
       .calibration = gptq_calibration(),
       .make = make_gptq_method,
       .parse_options = options_parser(parse_gptq_section)},
      {.name = "smoothquant",
       .flavour = QuantFlavour::kLlmc,  // = smoothquant's fake_quant for symmetric 8-bit
       .calibration = smoothquant_calibration(),
       .make = make_smoothquant_method,
       .parse_options = options_parser(parse_smoothquant_section)},
      {.name = "awq",
       .flavour = QuantFlavour::kAwq,
       .calibration = awq_calibration(),
       .make = make_awq_method,
       .parse_options = options_parser(parse_awq_section)},
      {.name = "omniquant",
       .flavour = QuantFlavour::kOmniquant,  // UniformAffineQuantizer; flavour: llmc imposes llmc
       .calibration = omniquant_calibration(),
       .make = make_omniquant_method,
       .parse_options = options_parser(parse_omniquant_section)},
      // Stage B's GPTQ calibration is GPTQ's (weights: rtn draws none, QuarotOptions); SpinQuant's
      // rotation-training text is quant.spinquant.data (SpinQuantMethod::training_calibration).
      {.name = "quarot",
       .flavour = QuantFlavour::kQuarot,
       .calibration = gptq_calibration(),
       .make = make_quarot_method,
       .parse_options = options_parser(parse_quarot_section)},
      {.name = "spinquant",
       .flavour = QuantFlavour::kQuarot,
       .calibration = gptq_calibration(),
       .make = make_spinquant_method,
       .parse_options = options_parser(parse_spinquant_section)},
  };
}

}  // namespace

const std::vector<QuantMethodInfo>& quant_methods() {
  static const std::vector<QuantMethodInfo> kMethods = registered_methods();
  return kMethods;
}

std::vector<std::string> quant_method_names() {
  std::vector<std::string> names;
  for (const auto& m : quant_methods()) names.push_back(m.name);
  return names;
}

std::string quant_method_list() {
  std::string list;
  for (const auto& m : quant_methods()) list += (list.empty() ? "" : ", ") + m.name;
  return list;
}

const QuantMethodInfo& find_quant_method(const std::string& name, const std::string& key) {
  for (const auto& m : quant_methods()) {
    if (m.name == name) return m;
  }
  const std::string hint = nearest_key(name, quant_method_names());
  throw ConfigError(key + ": '" + name + "' is not available (implemented: " + quant_method_list() +
                    ")" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

QuantFlavour default_flavour(const std::string& method) {
  return find_quant_method(method).flavour;
}

CalibrationConfig default_calibration(const std::string& method) {
  return find_quant_method(method).calibration.value_or(CalibrationConfig{});
}

}  // namespace slmq

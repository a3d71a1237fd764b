#pragma once
// A post-training quantization method: it declares what it cannot do for a model before starting,
// then replaces the model's linears with quantized backends and reports what that did and cost.
// Methods are registered by name in method_registry.h.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/calib/calibration_data.h"
#include "slmq/model/model.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// How far one linear's dequantized weight is from the original (both fp32).
struct LayerQuantStats {
  std::string name;
  int64_t out_features = 0, in_features = 0;
  double relative_error = 0;  // ||W − Ŵ||_F / ||W||_F
  double max_abs_error = 0;   // max |W − Ŵ|
  double mse = 0;             // mean (W − Ŵ)²
};

// Quantization cost (Track 3): wall time of the whole run and of each phase, peak process RSS.
struct QuantCost {
  std::vector<std::pair<std::string, double>> phase_seconds;  // in order
  double wall_seconds = 0;
  int64_t peak_rss_bytes = 0;  // getrusage ru_maxrss of this process so far (includes loading)

  nlohmann::json to_json() const;
};

struct QuantReport {
  std::string method;
  QuantConfig config;
  std::vector<LayerQuantStats> layers;
  int64_t linear_bytes_before = 0, linear_bytes_after = 0;  // storage of the quantized linears
  QuantCost cost;
  nlohmann::json calibration;  // CalibrationData::to_json() of a calibrated run, else null
  nlohmann::json details;      // method-specific records (e.g. GPTQ's damping per linear)
  nlohmann::json embedding;    // quantize_embedding()'s block when the embedding was quantized

  // {method, config, layers: [...], summary: {layers, mean/max relative error, bytes}, cost,
  //  calibration, details and embedding when set}
  nlohmann::json to_json() const;
};

class QuantMethod {
 public:
  virtual ~QuantMethod() = default;
  virtual std::string name() const = 0;
  // Why `config` cannot be applied to `model` (naming the layer and the nearest valid setting),
  // or nullopt when it can. Never throws.
  virtual std::optional<std::string> unsupported_reason(
      const Model& model, const QuantConfig& config) const noexcept = 0;
  // Whether run() needs calibration windows (built from config.calibration).
  virtual bool needs_calibration() const { return false; }
  // A second window set run() learns from besides config.calibration (SpinQuant's
  // rotation-training text), handed over in CalibrationData::training; nullopt for most methods.
  virtual std::optional<CalibrationConfig> training_calibration(const QuantConfig&) const {
    return std::nullopt;
  }
  // Quantizes in place. Throws UnsupportedError carrying unsupported_reason() when there is one,
  // and InternalError when a calibrating method gets no (or empty) calibration data.
  virtual QuantReport run(Model& model, const QuantConfig& config,
                          const CalibrationData* calib) const = 0;
};

// The registered method `name` (method_registry.h); ConfigError naming `quant.method` and the
// available methods for one slmquant does not have.
std::unique_ptr<QuantMethod> make_quant_method(const std::string& name);

// The windows `method` gets for `config`: config.calibration's, plus the method's training set in
// `training` when it has one (training_calibration). Throws what prepare_calibration throws.
CalibrationData prepare_method_calibration(const QuantMethod& method, const QuantConfig& config,
                                           const Tokenizer& tokenizer);

// The linears a config quantizes: those inside decoder layers, plus lm_head when asked.
bool is_quant_target(const std::string& linear_name, const QuantConfig& config);

// Checks shared by every method: targets are dense, group sizes fit each flavour (the message
// names the first layer that breaks it and the nearest group size valid for all targets).
std::optional<std::string> common_unsupported_reason(const Model& model,
                                                     const QuantConfig& config) noexcept;

// Error of a dequantized weight against the original (any float dtype; compared in fp32).
LayerQuantStats weight_error_stats(const std::string& name, const at::Tensor& original,
                                   const at::Tensor& dequantized);

// Peak resident set size of this process in bytes (getrusage).
int64_t peak_rss_bytes();

}  // namespace slmq

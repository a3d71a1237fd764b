#pragma once
// A method's own `quant.<method>:` options, held by QuantConfig without a member per method: the
// method's registration (method_registry.h) parses them into a plain struct, which QuantConfig
// keeps type-erased and the method reads back with `config.options<ItsOptions>()`.
#include <nlohmann/json.hpp>

#include <optional>
#include <utility>

#include "slmq/quant/quant_flavour.h"

namespace slmq {

class MethodOptions {
 public:
  virtual ~MethodOptions() = default;
  // What the result file records under quant.config.<method>.
  virtual nlohmann::json to_json() const = 0;
  // A quantizer flavour these options impose over the method's own (SmoothQuant's
  // llm_compressor variant pairs with compressed_tensors); nullopt: the method's.
  virtual std::optional<QuantFlavour> flavour() const = 0;
  // False when these options make a calibrating method draw no windows (QuaRot with RTN
  // weights); true otherwise.
  virtual bool uses_calibration() const = 0;
};

// The options struct T of one method. T needs `nlohmann::json to_json() const`; it may have
// `std::optional<QuantFlavour> flavour() const` and `bool uses_calibration() const` (see
// MethodOptions).
template <class T>
class MethodOptionsOf final : public MethodOptions {
 public:
  explicit MethodOptionsOf(T value) : value_(std::move(value)) {}
  const T& value() const { return value_; }
  nlohmann::json to_json() const override { return value_.to_json(); }
  std::optional<QuantFlavour> flavour() const override {
    if constexpr (requires(const T& t) { t.flavour(); }) {
      return value_.flavour();
    } else {
      return std::nullopt;
    }
  }
  bool uses_calibration() const override {
    if constexpr (requires(const T& t) { t.uses_calibration(); }) {
      return value_.uses_calibration();
    } else {
      return true;
    }
  }

 private:
  T value_;
};

}  // namespace slmq

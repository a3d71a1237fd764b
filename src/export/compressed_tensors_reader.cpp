#include <ATen/ATen.h>
#include <fmt/format.h>

#include <optional>
#include <regex>

#include "slmq/core/error.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/export/compressed_tensors_scheme.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/rotation/online_transforms_json.h"

namespace slmq {
namespace {

// compressed-tensors' target matching for a Linear module: its class name, its exact name, or a
// "re:" pattern matched from the start of the name (Python re.match).
bool matches(const std::string& target, const std::string& name) {
  if (target == "Linear" || target == name) return true;
  if (target.rfind("re:", 0) != 0) return false;
  return std::regex_search(name, std::regex(target.substr(3)),
                           std::regex_constants::match_continuous);
}

bool matches_any(const nlohmann::json& targets, const std::string& name) {
  for (const auto& t : targets) {
    if (t.is_string() && matches(t.get<std::string>(), name)) return true;
  }
  return false;
}

class CtLinearLoader final : public LinearLoader {
 public:
  CtLinearLoader(const nlohmann::json& qc, std::string where, nlohmann::json online)
      : where_(std::move(where)),
        online_(std::move(online)),
        config_(ct::parse_quantization_config(qc, where_)) {}

  std::unique_ptr<LinearBackend> load(const std::string& prefix, int64_t out, int64_t in,
                                      at::Tensor bias, const WeightSource& weights,
                                      const LoadOptions& options) const override {
    if (matches_any(config_.ignore, prefix)) return nullptr;
    for (const auto& g : config_.groups) {
      if (!matches_any(g.targets, prefix)) continue;
      Reader r{weights, prefix, g.weight, out, in};
      PackedWeight w = g.packed ? r.packed_weight() : r.int_weight();
      w.data = w.data.to(options.device);
      w.scales = w.scales.to(options.device);
      w.zeros = w.zeros.to(options.device);
      return wrap_declared_online(std::make_unique<FakeQuantLinear>(std::move(w), std::move(bias),
                                                                    options.dtype, g.activation),
                                  relative_name(prefix), online_, where_);
    }
    return nullptr;
  }

  void finish(Model& model) const override { attach_declared_attention(model, online_, where_); }

 private:
  // The tensors of one linear.
  struct Reader {
    const WeightSource& weights;
    const std::string& prefix;
    const QuantSpec& spec;
    int64_t out, in;

    at::Tensor get(const std::string& suffix, at::ScalarType dtype,
                   const std::vector<int64_t>& shape) const {
      const std::string name = prefix + "." + suffix;
      if (!weights.contains(name))
        throw DataError("'" + weights.describe() + "': tensor '" + name + "' is missing");
      at::Tensor t = weights.load(name);
      if (t.scalar_type() != dtype || t.sizes().vec() != shape) {
        throw DataError(fmt::format("'{}': tensor '{}' is {} {}, expected {} {}",
                                    weights.describe(), name, c10::toString(t.scalar_type()),
                                    c10::str(t.sizes()), c10::toString(dtype),
                                    c10::str(at::IntArrayRef(shape))));
      }
      return t;
    }

    int64_t groups() const {
      if (spec.granularity != Granularity::kPerGroup) return 1;
      if (in % spec.group_size != 0) {
        throw DataError(fmt::format("'{}': {}: group size {} does not divide {} input columns",
                                    weights.describe(), prefix, spec.group_size, in));
      }
      return in / spec.group_size;
    }

    std::vector<int64_t> param_shape() const {
      if (spec.granularity == Granularity::kPerTensor) return {1};
      return {out, groups()};
    }

    // Scales in fp32 (exact for the fp32 / bf16 / fp16 a checkpoint holds), [out, groups] or
    // [1, 1].
    at::Tensor scales() const {
      const std::string name = prefix + ".weight_scale";
      if (!weights.contains(name))
        throw DataError("'" + weights.describe() + "': tensor '" + name + "' is missing");
      at::Tensor t = weights.load(name);
      if (t.sizes().vec() != param_shape() || !at::isFloatingType(t.scalar_type())) {
        throw DataError(fmt::format("'{}': tensor '{}' is {} {}, expected a float tensor {}",
                                    weights.describe(), name, c10::toString(t.scalar_type()),
                                    c10::str(t.sizes()), c10::str(at::IntArrayRef(param_shape()))));
      }
      t = t.to(at::kFloat);
      return spec.granularity == Granularity::kPerTensor ? t.reshape({1, 1}) : t;
    }

    void check_zero_range(const at::Tensor& zeros) const {
      const int64_t half = int64_t{1} << (spec.bits - 1);
      if (zeros.numel() > 0 &&
          (zeros.min().item<int64_t>() < -half || zeros.max().item<int64_t>() >= half)) {
        throw DataError(
            fmt::format("'{}': {}.weight_zero_point: values outside the signed {}-bit range",
                        weights.describe(), prefix, spec.bits));
      }
    }

    PackedWeight packed_weight() const {
      at::Tensor shape = get("weight_shape", at::kLong, {2});
      if (shape[0].item<int64_t>() != out || shape[1].item<int64_t>() != in) {
        throw DataError(fmt::format("'{}': {}.weight_shape is [{}, {}], expected [{}, {}]",
                                    weights.describe(), prefix, shape[0].item<int64_t>(),
                                    shape[1].item<int64_t>(), out, in));
      }
      const int64_t words = (in * spec.bits + 31) / 32;
      at::Tensor packed = get("weight_packed", at::kInt, {out, words});
      PackedWeight w;
      w.spec = spec;
      w.in_features = in;
      w.out_features = out;
      w.scales = scales();
      if (spec.symmetric) {
        w.zeros = at::zeros({1, 1}, at::kInt);
      } else {
        const std::string zp = prefix + ".weight_zero_point";
        if (!weights.contains(zp))
          throw DataError("'" + weights.describe() + "': tensor '" + zp + "' is missing");
        w.zeros = ct::unpack_zero_points(weights.load(zp), spec, out, groups());
        check_zero_range(w.zeros);
      }
      if (w.packed()) {
        w.data = packed.contiguous();  // codes + 2^(b−1) = codes − min: slmquant's layout
      } else {
        w.data = (unpack_int32(packed, spec.bits, in).to(at::kShort) - 128).to(at::kChar);
      }
      return w;
    }

    PackedWeight int_weight() const {
      QuantizedWeight q;
      q.spec = spec;
      q.in_features = in;
      q.codes = get("weight", at::kChar, {out, in});
      const int64_t half = int64_t{1} << (spec.bits - 1);
      if (spec.bits < 8 &&
          (q.codes.min().item<int64_t>() < -half || q.codes.max().item<int64_t>() >= half)) {
        throw DataError(fmt::format("'{}': {}.weight: codes outside the signed {}-bit range",
                                    weights.describe(), prefix, spec.bits));
      }
      q.scales = scales();
      if (spec.symmetric) {
        q.zeros = at::zeros({1, 1}, at::kInt);
      } else {
        q.zeros = get("weight_zero_point", at::kChar, param_shape()).to(at::kInt);
        if (spec.granularity == Granularity::kPerTensor) q.zeros = q.zeros.reshape({1, 1});
        check_zero_range(q.zeros);
      }
      return pack_weight(std::move(q));
    }
  };

  // "model.layers.3.mlp.down_proj" -> "mlp.down_proj".
  static std::string relative_name(const std::string& prefix) {
    const std::string head = "model.layers.";
    if (prefix.rfind(head, 0) != 0) return prefix;
    const auto dot = prefix.find('.', head.size());
    return dot == std::string::npos ? prefix : prefix.substr(dot + 1);
  }

  std::string where_;
  nlohmann::json online_;
  ct::CtQuantizationConfig config_;
};

}  // namespace

std::shared_ptr<const LinearLoader> make_ct_linear_loader(const nlohmann::json& quantization_config,
                                                          const std::string& where,
                                                          const nlohmann::json& online_transforms) {
  return std::make_shared<CtLinearLoader>(quantization_config, where, online_transforms);
}

}  // namespace slmq

#include "slmq/quant/omniquant/block.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/model/model_config.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq::omniquant {
namespace {

// What a TrainingLinear computes with; the block rewrites it between forwards.
struct LinearState {
  at::Tensor weight;                 // [out, in] training dtype (graph-connected in kTrain)
  at::Tensor bias;                   // [out] or undefined
  const QuantSpec* act = nullptr;    // input quantizer, none in kFloat
  at::Tensor* abs_max = nullptr;     // set while recording act scales
  double* record_seconds = nullptr;  // time spent recording
};

class TrainingLinear final : public LinearBackend {
 public:
  TrainingLinear(std::shared_ptr<LinearState> state, int64_t in, int64_t out)
      : state_(std::move(state)), in_(in), out_(out) {}

  at::Tensor forward(const at::Tensor& x) const override {
    if (state_->abs_max != nullptr) {
      const auto start = SteadyClock::now();
      c10::AutoGradMode no_grad(false);
      at::Tensor seen = x.detach().reshape({-1, in_}).abs().amax(0);
      at::Tensor& acc = *state_->abs_max;
      acc = acc.defined() ? at::maximum(acc, seen) : seen;
      *state_->record_seconds += seconds_since(start);
    }
    const at::Tensor input = state_->act ? fake_quant_tokens(x, *state_->act) : x;
    return at::linear(input, state_->weight, state_->bias);
  }
  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  std::vector<at::Tensor> stored_tensors() const override {
    std::vector<at::Tensor> out = {state_->weight};
    if (state_->bias.defined()) out.push_back(state_->bias);
    return out;
  }
  int64_t parameters() const override { return in_ * out_ + (state_->bias.defined() ? out_ : 0); }
  std::string kind() const override { return "omniquant_training"; }

 private:
  std::shared_ptr<LinearState> state_;
  int64_t in_, out_;
};

at::Tensor copy_to(const at::Tensor& t, c10::ScalarType dtype) {
  return t.defined() ? t.detach().to(dtype, /*non_blocking=*/false, /*copy=*/true) : t;
}

}  // namespace

struct OmniBlock::Slot {
  LinearRole role;
  std::string name;
  std::unique_ptr<LinearBackend> original;
  std::shared_ptr<LinearState> state = std::make_shared<LinearState>();
  std::unique_ptr<LwcQuantizer> lwc;
  std::optional<QuantizedWeight> quantized;
};

std::pair<at::Tensor, at::Tensor> QkvQuantizer::queries_keys(const at::Tensor& q,
                                                             const at::Tensor& k) const {
  return {fake_quant_tokens(q, spec_), fake_quant_tokens(k, spec_)};
}

at::Tensor QkvQuantizer::values(const at::Tensor& v) const { return fake_quant_tokens(v, spec_); }

std::string QkvQuantizer::describe() const { return "omniquant q/k/v " + spec_.describe(); }

OmniBlock::OmniBlock(DecoderLayer& layer, const ModelConfig& config, const LetPlan& plan,
                     const BlockSettings& settings)
    : layer_(layer), config_(config), plan_(plan), settings_(settings) {
  if (layer.attention_transform() != nullptr)
    throw UnsupportedError("omniquant: layer " + std::to_string(layer.index()) +
                           " already has an attention transform (" +
                           layer.attention_transform()->describe() + ")");
  const c10::ScalarType dtype = settings.dtype;
  for (LinearRole role : kAllLinearRoles) {
    auto slot = std::make_unique<Slot>();
    slot->role = role;
    slot->name = layer.linear_name(role);
    const auto* dense = dynamic_cast<const DenseLinear*>(layer.linear(role).get());
    if (dense == nullptr)
      throw InternalError("omniquant: " + slot->name + " is not dense (" +
                          layer.linear(role)->kind() + ")");
    base_.w(role) = copy_to(dense->weight(), dtype);
    base_.b(role) = copy_to(dense->bias(), dtype);
    const int64_t out = dense->out_features(), in = dense->in_features();
    slot->lwc = std::make_unique<LwcQuantizer>(out, in, settings.weight, settings.lwc,
                                               base_.w(role).options());
    slot->original = std::move(layer.linear(role));
    layer.linear(role) = std::make_unique<TrainingLinear>(slot->state, in, out);
    slots_.push_back(std::move(slot));
  }
  for (int r = 0; r < kNormRoles; ++r) {
    const auto role = static_cast<NormRole>(r);
    if (!layer.has_norm(role)) continue;
    original_norms_[role] = layer.weights().norm(role);
    at::Tensor stored = copy_to(layer.weights().norm(role), dtype);
    base_.gain[role] = config.norm_kind == NormKind::kRms ? stored : stored + 1.0;
  }
  if (settings.flavour == OmniFlavour::kOfficial && settings.activation)
    qkv_ = std::make_shared<QkvQuantizer>(*settings.activation);
  set_mode(BlockMode::kFloat);
}

OmniBlock::~OmniBlock() {
  if (!installed_) restore();
}

void OmniBlock::restore() {
  for (auto& slot : slots_) {
    if (slot->original) layer_.linear(slot->role) = std::move(slot->original);
  }
  for (const auto& [role, w] : original_norms_) layer_.mutable_weights().norm(role) = w;
  layer_.set_attention_transform(nullptr);
}

void OmniBlock::use_weights(const BlockWeights& weights, bool quantize_weights) {
  for (auto& slot : slots_) {
    const at::Tensor& w = weights.w(slot->role);
    slot->state->weight = quantize_weights ? slot->lwc->fake_quant(w) : w;
    slot->state->bias = weights.b(slot->role);
  }
  for (const auto& [role, gain] : weights.gain) {
    layer_.mutable_weights().norm(role) = config_.norm_kind == NormKind::kRms ? gain : gain - 1.0;
  }
}

void OmniBlock::set_mode(BlockMode mode) {
  mode_ = mode;
  const QuantSpec* act =
      mode == BlockMode::kFloat || !settings_.activation ? nullptr : &*settings_.activation;
  for (auto& slot : slots_) slot->state->act = act;
  layer_.set_attention_transform(mode == BlockMode::kFloat ? nullptr : qkv_);
  if (mode == BlockMode::kFloat) use_weights(base_, false);
  if (mode == BlockMode::kQuantized) {
    if (!folded_.w(LinearRole::kQ).defined())
      throw InternalError("omniquant: kQuantized before fold()");
    c10::AutoGradMode no_grad(false);
    use_weights(folded_, true);
  }
}

at::Tensor OmniBlock::forward(const at::Tensor& x, const AttentionContext& ctx) const {
  return layer_.forward(x, ctx);
}

void OmniBlock::record_act_scales(bool on) {
  for (auto& slot : slots_) slot->state->abs_max = nullptr;
  if (!on) return;
  for (const LetGroup& g : plan_.groups) {
    LinearState& state = *slots_[static_cast<size_t>(g.keyed)]->state;
    state.abs_max = &act_abs_max_[g.keyed];
    state.record_seconds = &record_seconds_;
  }
}

void OmniBlock::init_let() {
  c10::AutoGradMode no_grad(false);
  for (const LetGroup& g : plan_.groups) {
    const auto it = act_abs_max_.find(g.keyed);
    if (it == act_abs_max_.end() || !it->second.defined())
      throw InternalError("omniquant: no act scales recorded for " + g.name);
    at::Tensor s = init_let_scale(it->second, base_.w(g.keyed), settings_.alpha, settings_.flavour);
    initial_scales_[g.name] = s.clone();
    scales_[g.name] = s.clone().requires_grad_(true);
  }
  if (plan_.qk) {
    at::Tensor s = at::ones({base_.w(LinearRole::kQ).size(0)}, base_.w(LinearRole::kQ).options());
    initial_scales_["s_qk"] = s.clone();
    scales_["s_qk"] = s.requires_grad_(true);
  }
}

void OmniBlock::prepare_step() {
  if (mode_ != BlockMode::kTrain) throw InternalError("omniquant: prepare_step outside kTrain");
  for (auto& [name, s] : scales_) truncate_scale_(s);
  use_weights(settings_.let ? apply_let(base_, plan_, scales_, /*training=*/true) : base_, true);
}

std::vector<at::Tensor> OmniBlock::let_parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& [name, s] : scales_) out.push_back(s);
  return out;
}

std::vector<at::Tensor> OmniBlock::lwc_parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& slot : slots_)
    for (const at::Tensor& p : slot->lwc->parameters()) out.push_back(p);
  return out;
}

void OmniBlock::fold() {
  c10::AutoGradMode no_grad(false);
  for (auto& [name, s] : scales_) truncate_scale_(s);
  folded_ = settings_.let ? apply_let(base_, plan_, scales_, /*training=*/false) : base_;
  for (auto& slot : slots_) slot->quantized = slot->lwc->quantize(folded_.w(slot->role));
  set_mode(BlockMode::kQuantized);
}

std::vector<LayerQuantStats> OmniBlock::install(c10::ScalarType model_dtype,
                                                const std::string& prefix) {
  if (mode_ != BlockMode::kQuantized) throw InternalError("omniquant: install before fold()");
  c10::AutoGradMode no_grad(false);
  std::vector<LayerQuantStats> stats;
  for (auto& slot : slots_) {
    const QuantizedWeight& q = *slot->quantized;
    stats.push_back(weight_error_stats(prefix + slot->name, folded_.w(slot->role), dequantize(q)));
    const at::Tensor& b = folded_.b(slot->role);
    layer_.linear(slot->role) = std::make_unique<FakeQuantLinear>(
        q, b.defined() ? b.to(model_dtype) : b, model_dtype, settings_.activation);
    slot->original.reset();
  }
  for (const auto& [role, original] : original_norms_)
    layer_.mutable_weights().norm(role) = original;
  if (settings_.let) {
    for (const LetGroup& g : plan_.groups) {
      if (!g.norm) continue;
      const at::Tensor& gain = folded_.gain.at(*g.norm);
      at::Tensor stored = config_.norm_kind == NormKind::kRms ? gain : gain - 1.0;
      layer_.mutable_weights().norm(*g.norm) = stored.to(original_norms_.at(*g.norm).scalar_type());
    }
  }
  layer_.set_attention_transform(qkv_);
  installed_ = true;
  return stats;
}

std::map<std::string, at::Tensor> OmniBlock::parameters() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, s] : scales_) out[name] = s.detach().clone();
  for (const auto& [name, s] : initial_scales_) out[name + ".init"] = s.clone();
  for (const auto& slot : slots_) {
    if (slot->lwc->upper().defined())
      out[slot->name + ".upper"] = slot->lwc->upper().detach().clone();
    if (slot->lwc->lower().defined())
      out[slot->name + ".lower"] = slot->lwc->lower().detach().clone();
  }
  return out;
}

std::map<std::string, QuantizedWeight> OmniBlock::quantized_weights() const {
  std::map<std::string, QuantizedWeight> out;
  for (const auto& slot : slots_)
    if (slot->quantized) out.emplace(slot->name, *slot->quantized);
  return out;
}

}  // namespace slmq::omniquant

#include "slmq/quant/omniquant/omniquant.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>

#include "slmq/core/error.h"
#include "slmq/core/progress.h"
#include "slmq/core/timing.h"
#include "slmq/quant/omniquant/block.h"

#ifdef SLMQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace slmq::omniquant {
namespace {

// Attention contexts of the training dtype by batch rows (the last chunk may be shorter): full
// windows from position 0, so full-attention layers run causal SDPA without a mask (its flash
// kernels on CPU and CUDA), sliding-window layers with theirs.
class Contexts {
 public:
  Contexts(const Model& model, int64_t steps, c10::ScalarType dtype)
      : model_(model), steps_(steps), dtype_(dtype) {}
  const AttentionContext& get(int64_t rows) {
    auto it = cache_.find(rows);
    if (it != cache_.end()) return it->second;
    const at::Tensor positions =
        at::arange(steps_, at::TensorOptions().dtype(at::kLong).device(model_.device()))
            .unsqueeze(0)
            .expand({rows, steps_});
    AttentionContext ctx = model_.causal_attention_context(positions);
    for (auto& [cos, sin] : ctx.rope) {
      cos = cos.to(dtype_);
      sin = sin.to(dtype_);
    }
    return cache_.emplace(rows, std::move(ctx)).first->second;
  }

 private:
  const Model& model_;
  int64_t steps_;
  c10::ScalarType dtype_;
  std::map<int64_t, AttentionContext> cache_;
};

// out[b] = block(in[b]) chunk by chunk, without autograd; `out` may be `in` (rows independent).
void run_chunks(const OmniBlock& block, const at::Tensor& in, at::Tensor& out, int64_t batch,
                Contexts& contexts) {
  c10::AutoGradMode no_grad(false);
  const int64_t n = in.size(0);
  for (int64_t b = 0; b < n; b += batch) {
    const int64_t size = std::min(batch, n - b);
    at::Tensor y = block.forward(in.narrow(0, b, size), contexts.get(size));
    out.narrow(0, b, size).copy_(y);
  }
}

void check_settings(const Settings& s) {
  auto trainable = [](QuantFlavour f) {
    return f == QuantFlavour::kOmniquant || f == QuantFlavour::kLlmc;
  };
  const QuantSpec& w = s.scheme.weight;
  if (!trainable(w.flavour))
    throw UnsupportedError("omniquant: weight quantizer flavour " + to_string(w.flavour) +
                           " (omniquant trains the omniquant or llmc quantizers)");
  if (w.granularity != Granularity::kPerChannel && w.granularity != Granularity::kPerGroup)
    throw UnsupportedError("omniquant: LWC needs per_channel or per_group weights, not " +
                           to_string(w.granularity));
  if (const auto& a = s.scheme.activation) {
    if (!trainable(a->flavour) && a->flavour != QuantFlavour::kCompressedTensors)
      throw UnsupportedError("omniquant: activation quantizer flavour " + to_string(a->flavour) +
                             " (omniquant, llmc or compressed_tensors)");
    if (a->granularity != Granularity::kPerToken || !a->dynamic)
      throw UnsupportedError("omniquant: activations are quantized per token, dynamically");
  }
  if (s.options.epochs > 0 && !s.options.lwc &&
      !s.options.let_enabled(s.scheme.activation.has_value()))
    throw UnsupportedError("omniquant: epochs > 0 with neither lwc nor let");
}

// cuBLAS TF32 for fp32 matmuls while it lives (CUDA training with `tf32: true`), then as before.
class Tf32Scope {
 public:
  explicit Tf32Scope(bool on) : on_(on) {
    if (!on_) return;
    previous_ = at::globalContext().allowTF32CuBLAS();
    at::globalContext().setAllowTF32CuBLAS(true);
  }
  ~Tf32Scope() {
    if (on_) at::globalContext().setAllowTF32CuBLAS(previous_);
  }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool on_;
  bool previous_ = false;
};

void reset_device_peak(c10::Device device) {
#ifdef SLMQ_WITH_CUDA
  if (device.is_cuda())
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

int64_t device_peak(c10::Device device) {
#ifdef SLMQ_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)]
        .peak;
  }
#endif
  return 0;
}

}  // namespace

c10::ScalarType training_dtype(c10::ScalarType model_dtype) {
  return model_dtype == c10::kDouble ? c10::kDouble : c10::kFloat;
}

std::optional<c10::ScalarType> autocast_dtype(const QuantScheme& scheme, c10::Device device,
                                              c10::ScalarType model_dtype) {
  if (!device.is_cuda() || model_dtype == c10::kDouble) return std::nullopt;
  const bool eight_or_more =
      scheme.weight.bits >= 8 || (scheme.activation && scheme.activation->bits >= 8);
  if (eight_or_more) return std::nullopt;
  return c10::kHalf;
}

nlohmann::json Result::to_json(const Settings& s) const {
  nlohmann::json blocks_json = nlohmann::json::array();
  std::vector<int64_t> nonfinite;
  for (size_t i = 0; i < blocks.size(); ++i) {
    nlohmann::json b = blocks[i].training.to_json();
    b["layer"] = i;
    nlohmann::json ranges = nlohmann::json::object();
    for (const auto& [name, mm] : blocks[i].let_range) ranges[name] = {mm.first, mm.second};
    if (!ranges.empty()) b["let_scale_min_max"] = ranges;
    if (blocks[i].training.nonfinite) nonfinite.push_back(static_cast<int64_t>(i));
    blocks_json.push_back(b);
  }
  nlohmann::json transforms = {
      {"lwc", lwc}, {"let", let}, {"qkv_activation_quantizer", qkv_quantized}};
  if (let) transforms["let_transforms"] = plan.to_json();
  return {{"flavour", to_string(s.options.variant)},
          {"transforms", transforms},
          {"training",
           {{"dtype", std::string(c10::toString(train_dtype))},
            {"autocast", autocast ? nlohmann::json(std::string(c10::toString(*autocast)))
                                  : nlohmann::json(nullptr)},
            {"epochs", s.options.epochs},
            {"batch_size", s.options.batch_size},
            {"tf32", s.options.tf32},
            {"optimizer_steps", optimizer_steps},
            {"seconds", training_seconds},
            {"cpu_seconds", training_cpu_seconds},
            {"inputs", s.propagate_quantized ? "quantized chain (quant_out)" : "FP chain"},
            {"nonfinite_loss_layers", nonfinite}}},
          {"blocks", blocks_json},
          {"peak_device_bytes", peak_device_bytes}};
}

Result quantize_blocks(Model& model, const at::Tensor& inputs, const Settings& s) {
  check_settings(s);
  c10::InferenceMode inference_off(false);  // autograd needs normal tensors
  const OmniquantOptions& o = s.options;
  const ModelConfig& cfg = model.config();
  Result r;
  r.train_dtype = training_dtype(model.dtype());
  r.autocast = autocast_dtype(s.scheme, model.device(), model.dtype());
  r.lwc = o.lwc;
  r.let = o.let_enabled(s.scheme.activation.has_value());
  r.plan = plan_let(cfg, model.arch().structure(cfg), o.variant, o.llmc_gqa_v_quirk);
  r.qkv_quantized = o.variant == OmniFlavour::kOfficial && s.scheme.activation.has_value();
  const BlockSettings bs{o.variant, s.scheme.weight, s.scheme.activation, o.lwc,
                         r.let,     o.alpha,         r.train_dtype};
  const TrainSettings ts{o.epochs, o.batch_size, o.let_lr, o.lwc_lr, o.wd, o.aug_loss, r.autocast};
  const bool train = o.epochs > 0;
  if (train && inputs.size(0) < o.batch_size)
    throw UnsupportedError(fmt::format("omniquant: {} windows, fewer than batch_size {}",
                                       inputs.size(0), o.batch_size));
  reset_device_peak(model.device());
  const Tf32Scope tf32(o.tf32 && model.device().is_cuda());
  Contexts contexts(model, inputs.size(1), r.train_dtype);
  at::Tensor fp, quant, aug;
  {
    c10::AutoGradMode no_grad(false);
    fp = inputs.to(r.train_dtype, false, /*copy=*/true);
    if (train) quant = fp.clone();
    if (train && o.aug_loss) aug = at::empty_like(fp);
  }
  // The layer lines below come once a layer is done; between them, lines with the ETA.
  ProgressReporter progress("omniquant");
  progress.update(0, static_cast<size_t>(model.num_layers()), "layers");
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    OmniBlock block(model.layer(i), cfg, r.plan, bs);
    BlockRecord rec;
    auto t0 = SteadyClock::now();
    if (train && !s.propagate_quantized) quant.copy_(fp);
    if (train || r.let) {
      block.set_mode(BlockMode::kFloat);
      block.record_act_scales(r.let);
      if (aug.defined()) run_chunks(block, quant, aug, o.batch_size, contexts);
      run_chunks(block, fp, fp, o.batch_size, contexts);
      block.record_act_scales(false);
    }
    if (r.let) block.init_let();
    r.fp_target_seconds += seconds_since(t0);
    r.act_scale_seconds += block.act_scale_seconds();
    if (train) {
      rec.training = train_block(block, quant, fp, aug, contexts.get(o.batch_size), ts);
      r.training_seconds += rec.training.seconds;
      r.training_cpu_seconds += rec.training.cpu_seconds;
      r.optimizer_steps += rec.training.optimizer_steps;
      if (rec.training.nonfinite)
        spdlog::warn(
            "omniquant: layer {} loss not finite at epoch {} step {}; kept the last "
            "finite parameters",
            i, rec.training.nonfinite->epoch, rec.training.nonfinite->step);
    }
    t0 = SteadyClock::now();
    block.fold();
    r.folding_seconds += seconds_since(t0);
    if (train && s.propagate_quantized) {
      t0 = SteadyClock::now();
      run_chunks(block, quant, quant, o.batch_size, contexts);
      r.quant_chain_seconds += seconds_since(t0);
    }
    t0 = SteadyClock::now();
    for (const auto& [name, p] : block.parameters()) {
      if (name.rfind("s_", 0) == 0 && name.find('.') == std::string::npos)
        rec.let_range[name] = {p.min().item<double>(), p.max().item<double>()};
    }
    if (s.keep_parameters) {
      rec.parameters = block.parameters();
      rec.quantized = block.quantized_weights();
    }
    auto stats = block.install(model.dtype(), fmt::format("model.layers.{}.", i));
    r.layers.insert(r.layers.end(), stats.begin(), stats.end());
    r.folding_seconds += seconds_since(t0);
    progress.update(static_cast<size_t>(i + 1), static_cast<size_t>(model.num_layers()), "layers");
    spdlog::info("omniquant: layer {}/{}{}", i + 1, model.num_layers(),
                 rec.training.epoch_loss.empty()
                     ? std::string()
                     : fmt::format(" loss {:.4g}", rec.training.epoch_loss.back()));
    r.blocks.push_back(std::move(rec));
  }
  r.peak_device_bytes = device_peak(model.device());
  return r;
}

}  // namespace slmq::omniquant

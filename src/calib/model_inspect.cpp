#include "slmq/calib/model_inspect.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>

#include "slmq/calib/recording_linear.h"
#include "slmq/core/error.h"
#include "slmq/model/linear_backend.h"

namespace slmq {
namespace {

struct ActivationAccumulator {
  at::Tensor abs_max;            // [in] fp32
  std::vector<float> token_max;  // one per token
};

double lower_median(const at::Tensor& v) { return v.median().item<double>(); }

std::vector<float> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kFloat).contiguous().cpu();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

double kurtosis(const at::Tensor& w) {
  const at::Tensor x = w.to(at::kDouble).flatten();
  const at::Tensor d = x - x.mean();
  const double var = (d * d).mean().item<double>();
  return var > 0 ? (d.pow(4)).mean().item<double>() / (var * var) : 0.0;
}

}  // namespace

ChannelSummary summarize_channels(const at::Tensor& channel_abs_max,
                                  const InspectOptions& options) {
  const at::Tensor a = channel_abs_max.to(at::kFloat).flatten().cpu();
  ChannelSummary s;
  s.channel_abs_max = to_vector(a);
  s.abs_max = a.max().item<double>();
  s.median = lower_median(a);
  s.spread = s.median > 0 ? s.abs_max / s.median : 0.0;
  s.outlier_share = (a > options.outlier_factor * s.median).to(at::kDouble).mean().item<double>();
  const int64_t k = std::min<int64_t>(options.top_k, a.numel());
  // Stable descending order, so equal values keep channel order (as numpy's stable argsort).
  const at::Tensor order = std::get<1>(a.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  for (int64_t i = 0; i < k; ++i) {
    const int64_t c = order[i].item<int64_t>();
    s.top.emplace_back(c, s.channel_abs_max[static_cast<size_t>(c)]);
  }
  return s;
}

std::vector<LinearInspect> inspect_model(Model& model, const CalibrationWindows* windows,
                                         const InspectOptions& options) {
  std::vector<LinearInspect> out;
  std::map<std::pair<int64_t, std::string>, ActivationAccumulator> acc;
  if (windows != nullptr) {
    if (windows->size() == 0) throw InternalError("inspect: empty calibration windows");
    c10::InferenceMode guard;
    std::vector<LinearInputHook> hooks;
    hooks.reserve(static_cast<size_t>(model.num_layers()));
    at::Tensor mask;  // the batch's token mask, flattened [B*T], or undefined
    // The backends as they are before the hooks wrap them (the objects keep their address).
    std::map<std::pair<int64_t, std::string>, const LinearBackend*> backends;
    for (int64_t l = 0; l < model.num_layers(); ++l)
      for (auto& [name, slot] : model.layer(l).linears()) backends[{l, name}] = slot->get();
    for (int64_t l = 0; l < model.num_layers(); ++l) {
      hooks.emplace_back([&acc, &mask, &backends, &options, l](
                             const std::string& name, const at::Tensor& input, const at::Tensor&) {
        const at::Tensor x =
            options.input_of ? options.input_of(*backends.at({l, name}), input) : input;
        at::Tensor rows = x.reshape({-1, x.size(-1)}).to(at::kFloat).abs();
        if (mask.defined()) rows = rows.index_select(0, mask.nonzero().flatten().to(rows.device()));
        auto& a = acc[{l, name}];
        const at::Tensor m = std::get<0>(rows.max(0)).cpu();
        a.abs_max = a.abs_max.defined() ? at::maximum(a.abs_max, m) : m;
        const auto tm = to_vector(std::get<0>(rows.max(1)));
        a.token_max.insert(a.token_max.end(), tm.begin(), tm.end());
      });
    }
    {
      std::vector<std::unique_ptr<LayerHooks>> installed;
      for (int64_t l = 0; l < model.num_layers(); ++l)
        installed.push_back(std::make_unique<LayerHooks>(model.layer(l), std::vector<std::string>{},
                                                         &hooks[static_cast<size_t>(l)], nullptr));
      for (int64_t b = 0; b < windows->size(); b += options.batch_size) {
        const int64_t n = std::min(options.batch_size, windows->size() - b);
        const at::Tensor ids = windows->ids.narrow(0, b, n).to(model.device());
        at::Tensor attn;
        if (windows->mask.defined()) {
          attn = windows->mask.narrow(0, b, n).to(model.device());
          mask = attn.reshape({-1}).cpu();
        } else {
          mask = at::Tensor();
        }
        model.forward(ids, attn);
      }
    }
  }
  for (int64_t l = 0; l < model.num_layers(); ++l) {
    for (auto& [name, slot] : model.layer(l).linears()) {
      const LinearBackend* held = options.weight_of ? options.weight_of(**slot) : slot->get();
      const auto* dense = dynamic_cast<const DenseLinear*>(held);
      if (dense == nullptr) continue;
      LinearInspect li;
      li.layer = l;
      li.linear = name;
      li.out_features = dense->out_features();
      li.in_features = dense->in_features();
      const at::Tensor w = dense->weight().to(at::kFloat);
      li.weight = summarize_channels(std::get<0>(w.abs().max(0)), options);
      li.weight_kurtosis = kurtosis(w);
      const auto it = acc.find({l, name});
      if (it != acc.end()) {
        li.has_activations = true;
        li.activation = summarize_channels(it->second.abs_max, options);
        const at::Tensor tm = at::tensor(it->second.token_max);
        li.tokens = tm.numel();
        li.token_max_median = lower_median(tm);
        li.token_max_mean = tm.to(at::kDouble).mean().item<double>();
        li.token_max_max = tm.max().item<double>();
      }
      out.push_back(std::move(li));
    }
  }
  return out;
}

namespace {

nlohmann::json summary_json(const ChannelSummary& s) {
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [c, v] : s.top) top.push_back({c, v, s.median > 0 ? v / s.median : 0.0});
  return {{"abs_max", s.abs_max},       {"median_channel_abs_max", s.median},
          {"channel_spread", s.spread}, {"outlier_share", s.outlier_share},
          {"top_channels", top},        {"channel_abs_max", s.channel_abs_max}};
}

}  // namespace

nlohmann::json inspect_to_json(const std::vector<LinearInspect>& linears,
                               const InspectOptions& options) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& li : linears) {
    nlohmann::json j = {{"layer", li.layer},
                        {"linear", li.linear},
                        {"out_features", li.out_features},
                        {"in_features", li.in_features}};
    j["weight"] = summary_json(li.weight);
    j["weight"]["kurtosis"] = li.weight_kurtosis;
    if (li.has_activations) {
      j["activation"] = summary_json(li.activation);
      j["activation"]["tokens"] = li.tokens;
      j["activation"]["token_max"] = {
          {"median", li.token_max_median}, {"mean", li.token_max_mean}, {"max", li.token_max_max}};
    }
    list.push_back(std::move(j));
  }
  return {{"options", {{"top_k", options.top_k}, {"outlier_factor", options.outlier_factor}}},
          {"linears", list}};
}

}  // namespace slmq

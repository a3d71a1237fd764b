#include "slmq/quant/rotation/online_transforms_json.h"

#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/model/model.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/rotation/online_hadamard.h"

namespace slmq {

nlohmann::json describe_online_transforms(const Model& model) {
  nlohmann::json linears = nlohmann::json::object();
  nlohmann::json attention;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const DecoderLayer& layer = model.layer(i);
    nlohmann::json here = nlohmann::json::object();
    for (LinearRole role : kAllLinearRoles) {
      if (const auto* w = dynamic_cast<const OnlineHadamardLinear*>(&layer.linear(role))) {
        nlohmann::json d = w->describe();
        d["heads"] = w->heads();
        here[layer.linear_name(role)] = d;
      }
    }
    nlohmann::json att;
    if (const auto* t = dynamic_cast<const KvQuantTransform*>(layer.attention_transform()))
      att = t->to_json();
    if (i == 0) {
      linears = here;
      attention = att;
    } else if (here != linears || att != attention) {
      throw InternalError(fmt::format("layer {} has other online transforms than layer 0", i));
    }
  }
  if (linears.empty() && attention.is_null()) return nullptr;
  return {{"note",
           "rotations are folded into the weights; these transforms must run online: the "
           "normalised Hadamard vec(H_K·X·H_m)/sqrt(n) of QuaRot/SpinQuant (get_hadK's factor K) "
           "on the inputs of the listed linears (across heads: per head dimension over the "
           "heads), and on queries and keys after RoPE when hadamard_qk, then the KV quantizers"},
          {"linears", linears},
          {"attention", attention}};
}

std::unique_ptr<LinearBackend> wrap_declared_online(std::unique_ptr<LinearBackend> backend,
                                                    const std::string& relative_name,
                                                    const nlohmann::json& declaration,
                                                    const std::string& where) {
  if (!declaration.is_object() || !declaration.contains("linears")) return backend;
  const auto& linears = declaration["linears"];
  if (!linears.is_object() || !linears.contains(relative_name)) return backend;
  const auto& d = linears[relative_name];
  try {
    const std::string mode = d.at("mode").get<std::string>();
    if (mode != "full" && mode != "across_heads")
      throw DataError(where + ": online transform mode '" + mode + "' of " + relative_name);
    return std::make_unique<OnlineHadamardLinear>(
        std::move(backend),
        mode == "full" ? OnlineHadamardLinear::Mode::kFull
                       : OnlineHadamardLinear::Mode::kAcrossHeads,
        d.value("heads", int64_t{0}), d.value("fp32", false));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where + ": malformed online transform of " + relative_name + ": " + e.what());
  }
}

void attach_declared_attention(Model& model, const nlohmann::json& declaration,
                               const std::string& where) {
  if (!declaration.is_object() || !declaration.contains("attention") ||
      declaration["attention"].is_null())
    return;
  const auto& a = declaration["attention"];
  try {
    KvQuantConfig kv;
    const auto& k = a.at("kv");
    kv.k_bits = k.at("k_bits").get<int>();
    kv.v_bits = k.at("v_bits").get<int>();
    kv.group_size = k.at("group_size").get<int64_t>();
    kv.symmetric = k.at("symmetric").get<bool>();
    kv.clip_ratio = k.at("clip_ratio").get<double>();
    attach_kv_quantizers(model, kv, parse_flavour(a.at("flavour").get<std::string>(), where),
                         a.at("hadamard_qk").get<bool>());
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where + ": malformed online attention transform: " + e.what());
  }
}

}  // namespace slmq

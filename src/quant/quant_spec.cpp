#include "slmq/quant/quant_spec.h"

#include <fmt/format.h>

#include <regex>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/quant/method_registry.h"

namespace slmq {
namespace {

struct FlavourName {
  QuantFlavour flavour;
  const char* name;
};
constexpr FlavourName kFlavours[] = {
    {QuantFlavour::kGptq, "gptq"},
    {QuantFlavour::kCompressedTensors, "compressed_tensors"},
    {QuantFlavour::kQuarot, "quarot"},
    {QuantFlavour::kLlmc, "llmc"},
    {QuantFlavour::kOmniquant, "omniquant"},
    {QuantFlavour::kAwq, "awq"},
};

struct GranularityName {
  Granularity granularity;
  const char* name;
};
constexpr GranularityName kGranularities[] = {
    {Granularity::kPerTensor, "per_tensor"},
    {Granularity::kPerChannel, "per_channel"},
    {Granularity::kPerGroup, "per_group"},
    {Granularity::kPerToken, "per_token"},
};

}  // namespace

std::string to_string(Granularity g) {
  for (const auto& e : kGranularities) {
    if (e.granularity == g) return e.name;
  }
  throw InternalError("unknown Granularity");
}

std::string to_string(QuantFlavour f) {
  for (const auto& e : kFlavours) {
    if (e.flavour == f) return e.name;
  }
  throw InternalError("unknown QuantFlavour");
}

Granularity parse_granularity(const std::string& name, const std::string& key) {
  for (const auto& e : kGranularities) {
    if (name == e.name) return e.granularity;
  }
  std::string hint = nearest_key(name, {"per_tensor", "per_channel", "per_group", "per_token"});
  throw ConfigError(key + ": '" + name +
                    "' is not one of per_tensor, per_channel, per_group, per_token" +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

QuantFlavour parse_flavour(const std::string& name, const std::string& key) {
  for (const auto& e : kFlavours) {
    if (name == e.name) return e.flavour;
  }
  std::string hint =
      nearest_key(name, {"gptq", "compressed_tensors", "quarot", "llmc", "omniquant", "awq"});
  throw ConfigError(key + ": '" + name +
                    "' is not one of gptq, compressed_tensors, quarot, llmc, omniquant, awq" +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

bool allows_ragged_groups(const QuantSpec& spec, QuantRole role) {
  switch (spec.flavour) {
    case QuantFlavour::kGptq:
      return true;
    case QuantFlavour::kQuarot:
      return role == QuantRole::kWeight;
    case QuantFlavour::kOmniquant:
      return spec.symmetric;
    default:
      return false;
  }
}

nlohmann::json QuantSpec::to_json() const {
  nlohmann::json j = {{"bits", bits},
                      {"symmetric", symmetric},
                      {"granularity", to_string(granularity)},
                      {"flavour", to_string(flavour)},
                      {"clip_ratio", clip_ratio},
                      {"dynamic", dynamic}};
  if (granularity == Granularity::kPerGroup) j["group_size"] = group_size;
  return j;
}

std::string QuantSpec::describe() const {
  std::string g = to_string(granularity);
  if (granularity == Granularity::kPerGroup) g += fmt::format("({})", group_size);
  std::string s =
      fmt::format("int{} {} {} {}", bits, symmetric ? "sym" : "asym", g, to_string(flavour));
  if (clip_ratio != 1.0) s += fmt::format(" clip {}", clip_ratio);
  if (!dynamic) s += " static";
  return s;
}

void validate(const QuantSpec& s, QuantRole role, const std::string& path) {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError(path + "." + key + ": " + what);
  };
  if (s.bits < 2 || s.bits > 8) fail("bits", fmt::format("{} is outside 2..8", s.bits));
  if (!(s.clip_ratio > 0.0 && s.clip_ratio <= 1.0))
    fail("clip_ratio", fmt::format("{} is outside (0, 1]", s.clip_ratio));
  if (s.granularity == Granularity::kPerGroup) {
    if (s.group_size < 1)
      fail("group_size", "is required (a positive integer) with granularity per_group");
  } else if (s.group_size != 0) {
    fail("group_size",
         "is only valid with granularity per_group (got " + to_string(s.granularity) + ")");
  }
  if (role == QuantRole::kWeight) {
    if (s.granularity == Granularity::kPerToken)
      fail("granularity", "per_token is for activations; weights use per_channel");
    if (!s.dynamic) fail("dynamic", "is an activation setting");
  } else {
    if (s.granularity == Granularity::kPerChannel)
      fail("granularity", "per_channel is for weights; activations use per_token");
    if (!s.dynamic && s.granularity != Granularity::kPerTensor) {
      fail("granularity", "static (dynamic: false) activation quantization is per_tensor only");
    }
    if (s.granularity == Granularity::kPerGroup && s.flavour != QuantFlavour::kQuarot) {
      fail("granularity",
           "per_group activations (per token and group) exist only in the quarot flavour");
    }
  }
}

QuantSpec parse_quant_spec(const ConfigNode& node, QuantRole role, QuantSpec base) {
  if (role == QuantRole::kWeight) {
    node.allow_only({"bits", "symmetric", "granularity", "group_size", "flavour", "clip_ratio"});
  } else {
    node.allow_only(
        {"bits", "symmetric", "granularity", "group_size", "flavour", "clip_ratio", "dynamic"});
  }
  QuantSpec s = base;
  s.bits = static_cast<int>(node.get_int("bits", s.bits));
  s.symmetric = node.get_bool("symmetric", s.symmetric);
  if (node.has("granularity")) {
    s.granularity =
        parse_granularity(node.get_string("granularity", ""), node.path() + ".granularity");
    if (s.granularity != Granularity::kPerGroup && !node.has("group_size")) s.group_size = 0;
  }
  s.group_size = node.get_int("group_size", s.group_size);
  if (node.has("group_size") && !node.has("granularity") && s.group_size > 0)
    s.granularity = Granularity::kPerGroup;
  if (node.has("flavour"))
    s.flavour = parse_flavour(node.get_string("flavour", ""), node.path() + ".flavour");
  s.clip_ratio = node.get_double("clip_ratio", s.clip_ratio);
  if (role == QuantRole::kActivation) s.dynamic = node.get_bool("dynamic", s.dynamic);
  validate(s, role, node.path());
  return s;
}

QuantScheme scheme_preset(const std::string& name, QuantFlavour flavour, const std::string& key) {
  static const std::regex kPattern("[wW]([2-8])[aA](4|5|6|7|8|16)(_asym)?");
  std::smatch m;
  if (!std::regex_match(name, m, kPattern)) {
    throw ConfigError(
        key + ": '" + name +
        "' is not a scheme (w8a8, w4a8, w4a16, w8a16, w4a16_asym, w<2..8>a<4..8|16>)");
  }
  QuantScheme s;
  s.weight.bits = std::stoi(m[1]);
  s.weight.symmetric = !m[3].matched;
  s.weight.flavour = flavour;
  // compressed-tensors presets: int8 weights per channel, lower bit widths in groups of 128.
  if (s.weight.bits < 8) {
    s.weight.granularity = Granularity::kPerGroup;
    s.weight.group_size = 128;
  }
  const int abits = std::stoi(m[2]);
  if (abits < 16) {
    QuantSpec a;
    a.bits = abits;
    a.granularity = Granularity::kPerToken;
    a.flavour = flavour;
    s.activation = a;
  }
  return s;
}

bool QuantConfig::uses_calibration() const {
  for (const auto& m : quant_methods()) {
    if (m.name == method)
      return m.calibration.has_value() && (!method_options || method_options->uses_calibration());
  }
  return false;
}

nlohmann::json QuantConfig::to_json() const {
  nlohmann::json j = {
      {"method", method},
      {"weight", scheme.weight.to_json()},
      {"activation", scheme.activation ? scheme.activation->to_json() : nlohmann::json()},
      {"quantize_lm_head", quantize_lm_head}};
  // Only when set, so that the configs (and hashes) of runs made before the key stay the same.
  if (quantize_embedding) j["quantize_embedding"] = true;
  if (uses_calibration()) j["calibration"] = calibration.to_json();
  if (method_options) j[method] = method_options->to_json();
  if (kv.enabled()) j["kv"] = kv.to_json();
  return j;
}

namespace {

// The registered method's `quant.<method>:` block, and a ConfigError for another method's block.
std::shared_ptr<const MethodOptions> parse_method_options(const ConfigNode& node,
                                                          const QuantMethodInfo& method) {
  for (const auto& other : quant_methods()) {
    if (other.name != method.name && other.parse_options && node.has(other.name))
      node.fail(other.name, "only for method " + other.name + ", not " + method.name);
  }
  if (!method.parse_options) return nullptr;
  if (!node.has(method.name)) return method.parse_options(nullptr);
  const ConfigNode block = node.section(method.name);
  return method.parse_options(&block);
}

std::optional<QuantSpec> parse_activation(const ConfigNode& node, std::optional<QuantSpec> preset,
                                          QuantFlavour flavour) {
  if (!node.has("activation")) return preset;
  std::optional<ConfigNode> act;
  try {
    act = node.section("activation");
  } catch (const ConfigError&) {
    // Not a mapping: the only other accepted value is `none`.
    if (node.get_string("activation", "") != "none")
      node.fail("activation", "expected a mapping or 'none'");
  }
  if (!act) return std::nullopt;
  QuantSpec base = preset.value_or(QuantSpec{8, true, Granularity::kPerToken, 0, flavour});
  return parse_quant_spec(*act, QuantRole::kActivation, base);
}

}  // namespace

QuantConfig parse_quant_section(const ConfigNode& node) {
  std::vector<std::string> keys = {
      "method",      "scheme", "weight", "activation", "quantize_lm_head", "quantize_embedding",
      "calibration", "kv"};
  for (const auto& m : quant_methods()) {
    if (m.parse_options) keys.push_back(m.name);
  }
  node.allow_only(keys);
  QuantConfig c;
  c.method = node.get_string("method", c.method);
  const QuantMethodInfo& method = find_quant_method(c.method, node.path() + ".method");
  c.method_options = parse_method_options(node, method);
  const QuantFlavour flavour =
      c.method_options ? c.method_options->flavour().value_or(method.flavour) : method.flavour;
  c.scheme = scheme_preset(node.get_string("scheme", "w8a16"), flavour, node.path() + ".scheme");
  if (node.has("weight"))
    c.scheme.weight = parse_quant_spec(node.section("weight"), QuantRole::kWeight, c.scheme.weight);
  validate(c.scheme.weight, QuantRole::kWeight, node.path() + ".weight");
  c.scheme.activation = parse_activation(node, c.scheme.activation, flavour);
  if (c.scheme.activation)
    validate(*c.scheme.activation, QuantRole::kActivation, node.path() + ".activation");
  c.quantize_lm_head = node.get_bool("quantize_lm_head", c.quantize_lm_head);
  c.quantize_embedding = node.get_bool("quantize_embedding", c.quantize_embedding);
  c.calibration = method.calibration.value_or(CalibrationConfig{});
  if (node.has("calibration")) {
    if (!method.calibration)
      node.fail("calibration", "method " + c.method + " uses no calibration");
    c.calibration = parse_calibration_section(node.section("calibration"), c.calibration);
  }
  if (node.has("kv")) c.kv = parse_kv_section(node.section("kv"));
  return c;
}

}  // namespace slmq

#include "slmq/export/compressed_tensors_config.h"

#include <fmt/format.h>

#include <cmath>
#include <regex>

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq::ct {
namespace {

// Typed reads of one key of `j` (an object, else a DataError naming `where`): absent or null
// gives `fallback`; a value of another JSON type is a DataError naming where.key, not the
// nlohmann::type_error that get<T>() would throw.
const nlohmann::json* field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object()) throw DataError(where + " must be a JSON object");
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string string_or(const nlohmann::json& j, const char* key, const std::string& fallback,
                      const std::string& where) {
  const nlohmann::json* v = field(j, key, where);
  if (v == nullptr) return fallback;
  if (!v->is_string()) throw DataError(where + "." + key + " must be a string");
  return v->get<std::string>();
}

bool bool_or(const nlohmann::json& j, const char* key, bool fallback, const std::string& where) {
  const nlohmann::json* v = field(j, key, where);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) throw DataError(where + "." + key + " must be true or false");
  return v->get<bool>();
}

int64_t int_or(const nlohmann::json& j, const char* key, int64_t fallback,
               const std::string& where) {
  const nlohmann::json* v = field(j, key, where);
  if (v == nullptr) return fallback;
  // Integral floats (4.0) pass, as pydantic's lax int does; unsigned values above INT64_MAX
  // would wrap to negatives in get<int64_t>().
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0)
      return static_cast<int64_t>(d);
  }
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX))
    throw DataError(where + "." + key + " must be an integer");
  return v->get<int64_t>();
}

void require_int_type(const nlohmann::json& args, const std::string& where) {
  const std::string type = string_or(args, "type", "int", where);
  if (type != "int") {
    throw UnsupportedError(where + ": type '" + escape_message(type) +
                           "' is not supported (slmquant runs integer quantization only)");
  }
}

int bits_of(const nlohmann::json& args, const std::string& where) {
  const int64_t bits = int_or(args, "num_bits", 8, where);
  if (bits < 2 || bits > 8)
    throw UnsupportedError(where + fmt::format(": num_bits {} is outside 2..8", bits));
  return static_cast<int>(bits);
}

// The targets (or ignore) list as the loader iterates it (a list, an object's values, a lone
// string as one target; non-strings never match): each "re:" pattern must compile, so that
// matching cannot throw std::regex_error later.
void check_patterns(const nlohmann::json& targets, const std::string& where) {
  for (const auto& t : targets) {
    if (!t.is_string()) continue;
    const std::string& target = t.get_ref<const std::string&>();
    if (target.rfind("re:", 0) != 0) continue;
    const std::string pattern = target.substr(3);
    if (pattern.size() > kMaxPatternChars) {
      throw DataError(where + ": a re: pattern of " + std::to_string(pattern.size()) +
                      " characters (at most " + std::to_string(kMaxPatternChars) + ")");
    }
    try {
      (void)std::regex(pattern);
    } catch (const std::regex_error& e) {
      throw DataError(where + ": pattern '" + escape_message(pattern) +
                      "' is not a valid regular expression (" + e.what() + ")");
    }
  }
}

CtGroup parse_group(const std::string& name, const nlohmann::json& g, const std::string& format,
                    const std::string& file) {
  const std::string where = file + ": quantization_config.config_groups." + escape_message(name);
  CtGroup s;
  s.name = name;
  if (!g.is_object()) throw DataError(where + " must be a JSON object");
  s.targets = g.value("targets", nlohmann::json::array());
  check_patterns(s.targets, where + ".targets");
  if (!g.contains("weights") || g["weights"].is_null())
    throw UnsupportedError(where + ": groups without weight quantization are not supported");
  s.weight = weight_spec_from_args(g["weights"], where + ".weights");
  if (g.contains("input_activations") && !g["input_activations"].is_null())
    s.activation = activation_spec_from_args(g["input_activations"], where + ".input_activations");
  if (g.contains("output_activations") && !g["output_activations"].is_null())
    throw UnsupportedError(where + ": output_activations quantization is not supported");
  const nlohmann::json* own = field(g, "format", where);
  const std::string f = own != nullptr && own->is_string() ? own->get<std::string>() : format;
  if (f == kPackQuantized) {
    s.packed = true;
  } else if (f == kIntQuantized || f == "naive-quantized") {
    s.packed = false;
  } else {
    throw UnsupportedError(where + ": format '" + escape_message(f) +
                           "' is not supported (pack-quantized, int-quantized, naive-quantized)");
  }
  return s;
}

}  // namespace

CtQuantizationConfig parse_quantization_config(const nlohmann::json& qc, const std::string& where) {
  const std::string key = where + ": quantization_config";
  if (!qc.is_object()) throw DataError(key + " must be an object");
  const std::string method = string_or(qc, "quant_method", "", key);
  if (method != "compressed-tensors") {
    throw UnsupportedError(where + ": quantization_config.quant_method '" + escape_message(method) +
                           "' is not supported (only compressed-tensors checkpoints load)");
  }
  const std::string status = string_or(qc, "quantization_status", "compressed", key);
  if (status != "compressed") {
    throw UnsupportedError(where + ": quantization_status '" + escape_message(status) +
                           "' is not supported (only 'compressed' checkpoints load)");
  }
  CtQuantizationConfig out;
  out.ignore = qc.value("ignore", nlohmann::json::array());
  check_patterns(out.ignore, key + ".ignore");
  if (!qc.contains("config_groups") || !qc["config_groups"].is_object())
    throw DataError(where + ": quantization_config.config_groups is missing");
  const std::string format = string_or(qc, "format", "", key);
  for (const auto& [name, g] : qc["config_groups"].items())
    out.groups.push_back(parse_group(name, g, format, where));
  return out;
}

namespace {

// What weight and activation arguments share: integer type, bits, symmetry.
QuantSpec common_args(const nlohmann::json& args, const std::string& where) {
  require_int_type(args, where);
  QuantSpec s;
  s.flavour = QuantFlavour::kCompressedTensors;
  s.bits = bits_of(args, where);
  s.symmetric = bool_or(args, "symmetric", true, where);
  return s;
}

}  // namespace

QuantSpec weight_spec_from_args(const nlohmann::json& args, const std::string& where) {
  QuantSpec s = common_args(args, where);
  const std::string strategy = string_or(args, "strategy", "tensor", where);
  if (strategy == "tensor") {
    s.granularity = Granularity::kPerTensor;
  } else if (strategy == "channel") {
    s.granularity = Granularity::kPerChannel;
  } else if (strategy == "group") {
    s.granularity = Granularity::kPerGroup;
    s.group_size = int_or(args, "group_size", 0, where);
    if (s.group_size < 1) throw DataError(where + ": strategy 'group' needs a positive group_size");
  } else {
    throw UnsupportedError(where + ": weight strategy '" + escape_message(strategy) +
                           "' is not supported (tensor, channel, group)");
  }
  if (bool_or(args, "dynamic", false, where))
    throw UnsupportedError(where + ": dynamic weight quantization is not supported");
  const nlohmann::json* actorder = field(args, "actorder", where);
  if (actorder != nullptr && actorder->is_string() && actorder->get<std::string>() == "group") {
    throw UnsupportedError(where +
                           ": actorder 'group' (a g_idx permutation of the groups) is not "
                           "supported");
  }
  return s;
}

QuantSpec activation_spec_from_args(const nlohmann::json& args, const std::string& where) {
  QuantSpec s = common_args(args, where);
  const std::string strategy = string_or(args, "strategy", "tensor", where);
  if (strategy == "token") {
    s.granularity = Granularity::kPerToken;
  } else if (strategy == "tensor") {
    s.granularity = Granularity::kPerTensor;
  } else {
    throw UnsupportedError(where + ": activation strategy '" + escape_message(strategy) +
                           "' is not supported (token, tensor)");
  }
  // compressed-tensors also writes "dynamic": "local" (per-group dynamic); only true runs here.
  const nlohmann::json* dynamic = field(args, "dynamic", where);
  if (dynamic == nullptr || !dynamic->is_boolean() || !dynamic->get<bool>()) {
    throw UnsupportedError(where +
                           ": static activation quantization (input_scale from calibration) "
                           "is not supported yet; only dynamic activations are");
  }
  return s;
}

}  // namespace slmq::ct

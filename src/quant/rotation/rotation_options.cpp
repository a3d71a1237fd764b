#include "slmq/quant/rotation/rotation_options.h"

#include <string>
#include <vector>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {
namespace {

const std::vector<std::string> kRotationKeys = {
    "r1", "values", "r4", "online_fp32", "center_embeddings", "weights", "w_clip", "seed", "gptq"};

// The rotation keys of a block; the caller checks for unknown keys.
RotationOptions parse_rotation_keys(const ConfigNode& node, RotationOptions o) {
  o.r1 = node.get_choice("r1", o.r1, {"random_hadamard", "hadamard", "random", "none"});
  o.values = node.get_choice("values", o.values, {"quarot", "r2", "none"});
  o.r4 = node.get_bool("r4", o.r4);
  o.online_fp32 = node.get_bool("online_fp32", o.online_fp32);
  o.center_embeddings = node.get_bool("center_embeddings", o.center_embeddings);
  o.weights = node.get_choice("weights", o.weights, {"gptq", "rtn"});
  o.w_clip = node.get_bool("w_clip", o.w_clip);
  o.seed = node.get_int("seed", o.seed);
  if (node.has("gptq")) o.gptq = parse_gptq_section(node.section("gptq"), o.gptq);
  return o;
}

}  // namespace

nlohmann::json RotationOptions::to_json() const {
  nlohmann::json j = {{"r1", r1},
                      {"values", values},
                      {"r4", r4},
                      {"online_fp32", online_fp32},
                      {"center_embeddings", center_embeddings},
                      {"weights", weights},
                      {"w_clip", w_clip},
                      {"seed", seed}};
  if (weights == "gptq") j["gptq"] = gptq.to_json();
  return j;
}

nlohmann::json SpinQuantOptions::to_json() const {
  nlohmann::json j = rotation.to_json();
  j["steps"] = steps;
  j["lr"] = lr;
  j["batch_size"] = batch_size;
  j["max_grad_norm"] = max_grad_norm;
  j["train_weights"] = train_weights;
  j["data"] = data.to_json();
  return j;
}

QuarotOptions parse_quarot_section(const ConfigNode& node, QuarotOptions o) {
  node.allow_only(kRotationKeys);
  o.rotation = parse_rotation_keys(node, o.rotation);
  return o;
}

SpinQuantOptions parse_spinquant_section(const ConfigNode& node, SpinQuantOptions o) {
  std::vector<std::string> keys = kRotationKeys;
  keys.insert(keys.end(), {"steps", "lr", "batch_size", "max_grad_norm", "train_weights", "data"});
  node.allow_only(keys);
  o.rotation = parse_rotation_keys(node, o.rotation);
  o.steps = node.get_int("steps", o.steps);
  if (o.steps < 0) node.fail("steps", "must be >= 0");
  o.lr = node.get_double("lr", o.lr);
  if (!(o.lr > 0)) node.fail("lr", "must be positive");
  o.batch_size = node.get_int("batch_size", o.batch_size);
  if (o.batch_size < 1) node.fail("batch_size", "must be >= 1");
  o.max_grad_norm = node.get_double("max_grad_norm", o.max_grad_norm);
  if (!(o.max_grad_norm > 0)) node.fail("max_grad_norm", "must be positive");
  o.train_weights = node.get_bool("train_weights", o.train_weights);
  if (node.has("data")) o.data = parse_calibration_section(node.section("data"), o.data);
  return o;
}

const RotationOptions& rotation_options(const QuantConfig& config) {
  if (config.method == "quarot") return config.options<QuarotOptions>().rotation;
  if (config.method == "spinquant") return config.options<SpinQuantOptions>().rotation;
  throw InternalError("rotation_options: method " + config.method +
                      " is neither quarot nor spinquant");
}

}  // namespace slmq

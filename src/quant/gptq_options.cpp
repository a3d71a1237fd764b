#include "slmq/quant/gptq_options.h"

#include "slmq/config/config_node.h"

namespace slmq {

nlohmann::json GptqOptions::to_json() const {
  return {{"block_size", block_size},
          {"percdamp", percdamp},
          {"act_order", act_order},
          {"static_groups", static_groups},
          {"true_sequential", true_sequential},
          {"max_damp_retries", max_damp_retries}};
}

GptqOptions parse_gptq_section(const ConfigNode& node, GptqOptions o) {
  node.allow_only({"block_size", "percdamp", "act_order", "static_groups", "true_sequential",
                   "max_damp_retries"});
  o.block_size = node.get_int("block_size", o.block_size);
  if (o.block_size < 1) node.fail("block_size", "must be at least 1");
  o.percdamp = node.get_double("percdamp", o.percdamp);
  if (!(o.percdamp > 0)) node.fail("percdamp", "must be positive (fraction of mean diag H)");
  o.act_order = node.get_bool("act_order", o.act_order);
  o.static_groups = node.get_bool("static_groups", o.static_groups);
  o.true_sequential = node.get_bool("true_sequential", o.true_sequential);
  const int64_t retries = node.get_int("max_damp_retries", o.max_damp_retries);
  if (retries < 0 || retries > 10) node.fail("max_damp_retries", "must be in 0..10");
  o.max_damp_retries = static_cast<int>(retries);
  return o;
}

}  // namespace slmq

#include "slmq/quant/awq_options.h"

#include "slmq/config/config_node.h"

namespace slmq {

nlohmann::json AwqOptions::to_json() const {
  return {{"scale", scale},
          {"n_grid", n_grid},
          {"clip", clip},
          {"max_shrink", max_shrink},
          {"n_sample_token", n_sample_token}};
}

AwqOptions parse_awq_section(const ConfigNode& node, AwqOptions o) {
  node.allow_only({"scale", "n_grid", "clip", "max_shrink", "n_sample_token"});
  o.scale = node.get_bool("scale", o.scale);
  o.n_grid = node.get_int("n_grid", o.n_grid);
  if (o.n_grid < 1 || o.n_grid > 1000) node.fail("n_grid", "must be in 1..1000");
  o.clip = node.get_bool("clip", o.clip);
  o.max_shrink = node.get_double("max_shrink", o.max_shrink);
  if (!(o.max_shrink > 0 && o.max_shrink < 1)) node.fail("max_shrink", "must be in (0, 1)");
  o.n_sample_token = node.get_int("n_sample_token", o.n_sample_token);
  if (o.n_sample_token < 1) node.fail("n_sample_token", "must be at least 1");
  return o;
}

}  // namespace slmq

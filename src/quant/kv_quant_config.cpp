#include "slmq/quant/kv_quant_config.h"

#include "slmq/config/config_node.h"

namespace slmq {

nlohmann::json KvQuantConfig::to_json() const {
  return {{"k_bits", k_bits},
          {"v_bits", v_bits},
          {"group_size", group_size},
          {"symmetric", symmetric},
          {"clip_ratio", clip_ratio}};
}

KvQuantConfig parse_kv_section(const ConfigNode& node) {
  node.allow_only({"k_bits", "v_bits", "group_size", "symmetric", "clip_ratio"});
  KvQuantConfig kv;
  for (const char* key : {"k_bits", "v_bits"}) {
    const int64_t bits = node.get_int(key, 16);
    if (bits != 16 && (bits < 2 || bits > 8)) node.fail(key, "must be 2..8, or 16 (not quantized)");
    (std::string(key) == "k_bits" ? kv.k_bits : kv.v_bits) = static_cast<int>(bits);
  }
  kv.group_size = node.get_int("group_size", kv.group_size);
  if (kv.group_size != -1 && kv.group_size < 1)
    node.fail("group_size", "must be -1 (per token over all KV heads) or head_dim (per head)");
  kv.symmetric = node.get_bool("symmetric", kv.symmetric);
  kv.clip_ratio = node.get_double("clip_ratio", kv.clip_ratio);
  if (!(kv.clip_ratio > 0 && kv.clip_ratio <= 1)) node.fail("clip_ratio", "must be in (0, 1]");
  return kv;
}

}  // namespace slmq

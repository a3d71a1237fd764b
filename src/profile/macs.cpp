#include "slmq/profile/macs.h"

#include <algorithm>

#include "slmq/model/model.h"

namespace slmq {

MacCount& MacCount::operator+=(const MacCount& other) {
  linear += other.linear;
  attention += other.attention;
  for (const auto& [kind, n] : other.linear_by_kind) linear_by_kind[kind] += n;
  return *this;
}

nlohmann::json MacCount::to_json() const {
  return {{"total", total()},
          {"linear", linear},
          {"attention", attention},
          {"linear_by_kind", linear_by_kind}};
}

MacCount forward_macs(const Model& model, int64_t batch, int64_t new_tokens, int64_t past,
                      bool last_only) {
  MacCount m;
  for (const auto& [name, linear] : model.linears()) {
    const bool head = name == "lm_head";
    const int64_t rows = batch * (head && last_only ? 1 : new_tokens);
    const int64_t macs = linear->macs(rows);
    m.linear += macs;
    m.linear_by_kind[linear->kind()] += macs;
  }
  const auto& c = model.config();
  for (int64_t l = 0; l < model.num_layers(); ++l) {
    const auto window = model.layer(l).sliding_window();
    int64_t keys = 0;  // Σ over this call's queries of the keys each attends
    for (int64_t t = 0; t < new_tokens; ++t) {
      const int64_t visible = past + t + 1;
      keys += window ? std::min(visible, *window) : visible;
    }
    // QKᵀ and AV: head_dim MACs per (query head, key) each.
    m.attention += 2 * batch * c.num_heads * c.head_dim * keys;
  }
  return m;
}

}  // namespace slmq

#include "slmq/eval/model_language_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "slmq/core/error.h"
#include "slmq/core/memory.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"

namespace slmq::eval {
namespace {

// Positions scored per lm_head call: bounds the [K,V] float32 logits a batch materialises.
constexpr int64_t kHeadChunk = 256;

// One scored token: the input slot whose logits predict it, and the token.
struct Pick {
  int64_t flat;    // index into the [B*T] flattened hidden states
  int64_t target;  // token id
};

// log_softmax (float32) of the head at `hidden` [K,C], gathered at `targets`; appends the
// per-position log-probabilities and argmax hits.
void score_positions(const Model& model, const at::Tensor& hidden,
                     const std::vector<int64_t>& targets, std::vector<double>& logprobs,
                     std::vector<bool>& greedy) {
  const auto device = hidden.device();
  for (int64_t start = 0; start < hidden.size(0); start += kHeadChunk) {
    const int64_t len = std::min(kHeadChunk, hidden.size(0) - start);
    at::Tensor h = hidden.narrow(0, start, len).unsqueeze(0);                        // [1,K,C]
    at::Tensor logp = at::log_softmax(model.head(h).squeeze(0).to(at::kFloat), -1);  // [K,V]
    std::vector<int64_t> t(targets.begin() + start, targets.begin() + start + len);
    at::Tensor want = at::tensor(t, at::kLong).to(device);
    at::Tensor lp = logp.gather(1, want.unsqueeze(1)).squeeze(1).to(at::kDouble).cpu();
    at::Tensor hit = logp.argmax(-1).eq(want).cpu();
    const double* lp_data = lp.data_ptr<double>();
    const bool* hit_data = hit.data_ptr<bool>();
    logprobs.insert(logprobs.end(), lp_data, lp_data + len);
    greedy.insert(greedy.end(), hit_data, hit_data + len);
  }
}

// allowed[b,q,k] for packed rows with segment ids [B,T] (0 prefix, i > 0 continuation i, -1
// padding): k <= q, k is a real token, and k is in the prefix or q's own continuation.
at::Tensor packed_mask(const at::Tensor& segment) {
  const int64_t width = segment.size(1);
  at::Tensor idx = at::arange(width, segment.options());
  at::Tensor causal = (idx.unsqueeze(0) <= idx.unsqueeze(1)).unsqueeze(0);  // [1,T,T]
  at::Tensor seg_k = segment.unsqueeze(1), seg_q = segment.unsqueeze(2);
  return causal.logical_and(seg_k.eq(0).logical_or(seg_k.eq(seg_q)))
      .logical_and(seg_k.ge(0))
      .logical_or(at::eye(width, segment.options().dtype(at::kBool)));
}

std::vector<int64_t> to_int64(const std::vector<int32_t>& ids) {
  return std::vector<int64_t>(ids.begin(), ids.end());
}

void check_group(const ScoreGroup& g) {
  if (g.prefix.empty() || g.suffixes.size() != g.score_from.size())
    throw InternalError("ScoreGroup: empty prefix or score_from/suffix count mismatch");
  for (size_t i = 0; i < g.suffixes.size(); ++i) {
    if (g.score_from[i] < g.prefix.size() || g.score_from[i] >= g.row_size(i))
      throw InternalError("ScoreGroup: score_from outside [prefix size, row size)");
  }
}

// A batch of groups as padded rows [batch, width] (row-major vectors): one group per row, its
// prefix then each distinct continuation input, positions restarting after the prefix.
struct PackedRows {
  int64_t batch = 0, width = 0;
  std::vector<int64_t> ids, positions;
  std::vector<int64_t> segment;  // 0 prefix, k > 0 the row's k-th continuation input, -1 padding
  std::vector<Pick> picks;
  std::vector<std::pair<size_t, size_t>> owner;  // (group, row) per pick
};

// Writes group `b`'s tokens into row b of `rows` and records its scored positions.
void pack_group(const ScoreGroup& g, int64_t b, PackedRows& rows) {
  const int64_t base = b * rows.width;
  const auto p = static_cast<int64_t>(g.prefix.size());
  for (int64_t t = 0; t < p; ++t) {
    rows.ids[base + t] = g.prefix[t];
    rows.positions[base + t] = t;
    rows.segment[base + t] = 0;
  }
  int64_t offset = p, inputs = 0;
  const std::vector<size_t> owners = g.input_owners();
  std::vector<int64_t> start(g.suffixes.size(), 0);  // where each suffix's inputs are
  for (size_t i = 0; i < g.suffixes.size(); ++i) {
    const auto& s = g.suffixes[i];
    const auto m = static_cast<int64_t>(s.size()) - 1;  // the last token is never an input
    if (owners[i] != i) {
      start[i] = start[owners[i]];  // same inputs: reuse the slots
    } else {
      start[i] = offset;
      if (m > 0) ++inputs;
      for (int64_t t = 0; t < m; ++t) {
        rows.ids[base + offset + t] = s[t];
        rows.positions[base + offset + t] = p + t;
        rows.segment[base + offset + t] = inputs;
      }
      offset += m;
    }
    const auto n = static_cast<int64_t>(g.row_size(i));
    for (auto j = static_cast<int64_t>(g.score_from[i]); j < n; ++j) {
      const int64_t q = j - 1;  // the input slot predicting row[j]
      const int64_t slot = q < p ? q : start[i] + (q - p);
      rows.picks.push_back({base + slot, s[j - p]});
      rows.owner.emplace_back(b, i);
    }
  }
}

PackedRows pack_rows(const std::vector<ScoreGroup>& groups) {
  PackedRows rows;
  rows.batch = static_cast<int64_t>(groups.size());
  for (const auto& g : groups) rows.width = std::max<int64_t>(rows.width, g.packed_size());
  const auto cells = static_cast<size_t>(rows.batch * rows.width);
  rows.ids.assign(cells, 0);
  rows.positions.assign(cells, 0);
  rows.segment.assign(cells, -1);
  for (int64_t b = 0; b < rows.batch; ++b) pack_group(groups[b], b, rows);
  return rows;
}

}  // namespace

int64_t lm_eval_max_length(const nlohmann::json& hf_config,
                           const nlohmann::json& tokenizer_config) {
  for (const char* key : {"n_positions", "max_position_embeddings", "n_ctx"}) {
    if (hf_config.is_object() && hf_config.contains(key) && hf_config[key].is_number_integer())
      return hf_config[key].get<int64_t>();
  }
  if (tokenizer_config.is_object() && tokenizer_config.contains("model_max_length") &&
      tokenizer_config["model_max_length"].is_number()) {
    const double v = tokenizer_config["model_max_length"].get<double>();
    if (v > 0 && v < 1e29) return static_cast<int64_t>(v);
  }
  return 2048;
}

ModelLanguageModel::ModelLanguageModel(const Model& model,
                                       std::shared_ptr<const Tokenizer> tokenizer,
                                       int64_t max_length, ModelLanguageModelOptions options)
    : model_(model),
      tokenizer_(std::move(tokenizer)),
      max_length_(options.max_length.value_or(max_length)),
      options_(options) {
  if (max_length_ >= 2) return;
  if (options.max_length)
    throw ConfigError("eval.max_length (--max-length) must be at least 2, found " +
                      std::to_string(max_length_));
  throw DataError("the model's max_position_embeddings (" + std::to_string(max_length_) +
                  ") leaves no room for a continuation; set eval.max_length (--max-length) >= 2");
}

std::vector<int64_t> ModelLanguageModel::encode(const std::string& text,
                                                bool add_special_tokens) const {
  return to_int64(tokenizer_->encode(text, add_special_tokens));
}

std::string ModelLanguageModel::decode(const std::vector<int64_t>& tokens,
                                       bool skip_special_tokens) const {
  std::vector<int32_t> ids(tokens.begin(), tokens.end());
  return tokenizer_->decode(ids, skip_special_tokens);
}

std::optional<int64_t> ModelLanguageModel::bos_token() const {
  auto id = tokenizer_->bos_id();
  return id ? std::optional<int64_t>(*id) : std::nullopt;
}

std::optional<int64_t> ModelLanguageModel::eos_token() const {
  auto id = tokenizer_->eos_id();
  return id ? std::optional<int64_t>(*id) : std::nullopt;
}

int64_t ModelLanguageModel::batch_token_budget(int64_t length) const {
  const auto& c = model_.config();
  const int64_t elem = static_cast<int64_t>(c10::elementSize(model_.dtype()));
  // Per token: activations of one layer (hidden, q/k/v/o, MLP) and attention scores over
  // `length` keys per head (scores, probabilities, fp32 temporaries, the mask).
  const int64_t per_token =
      elem * (8 * c.hidden_size + 4 * c.intermediate_size) +
      std::max<int64_t>(length, 1) * (c.num_heads * (2 * elem + 4) + 1 + elem);
  const int64_t head_bytes = kHeadChunk * c.vocab_size * 4 * 3;
  const auto usable = static_cast<int64_t>(
      static_cast<double>(available_memory_bytes(model_.device())) * options_.memory_fraction);
  const int64_t cap = options_.max_batch_tokens > 0 ? options_.max_batch_tokens
                      : model_.device().is_cuda()   ? 262144
                                                    : 16384;
  const int64_t fit = std::max<int64_t>(usable - head_bytes, 0) / std::max<int64_t>(per_token, 1);
  return std::max(std::min(fit, cap), length);
}

double ModelLanguageModel::max_padding() const {
  // Measured on SmolLM2-135M, MMLU, one CPU thread: batches padded up to the longest row
  // (16384 tokens) took 3.5x the time of unpadded single rows.
  return model_.device().is_cuda() ? 1.0 : 0.1;
}

std::vector<std::vector<TokenScore>> ModelLanguageModel::score(
    const std::vector<ScoreGroup>& groups) const {
  for (const auto& g : groups) check_group(g);
  if (groups.size() == 1 && groups[0].suffixes.size() == 1 &&
      static_cast<int64_t>(groups[0].packed_size()) > options_.chunk_tokens) {
    return {score_chunked(groups[0])};
  }
  std::vector<bool> shared(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) shared[g] = shares_prefix(groups[g]);
  if (std::none_of(shared.begin(), shared.end(), [](bool s) { return s; }))
    return score_packed(groups);
  std::vector<std::vector<TokenScore>> out(groups.size());
  std::vector<ScoreGroup> packed;
  std::vector<size_t> packed_at;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (shared[g]) {
      out[g] = score_shared_prefix(groups[g]);
    } else {
      packed.push_back(groups[g]);
      packed_at.push_back(g);
    }
  }
  if (!packed.empty()) {
    auto scores = score_packed(packed);
    for (size_t k = 0; k < packed.size(); ++k) out[packed_at[k]] = std::move(scores[k]);
  }
  return out;
}

bool ModelLanguageModel::shares_prefix(const ScoreGroup& group) const {
  if (options_.shared_prefix_width <= 0 ||
      static_cast<int64_t>(group.packed_size()) < options_.shared_prefix_width)
    return false;
  const std::vector<size_t> owners = group.input_owners();
  size_t inputs = 0;
  for (size_t i = 0; i < group.suffixes.size(); ++i)
    if (owners[i] == i && group.suffixes[i].size() > 1) ++inputs;
  return inputs >= 2;
}

at::Tensor ModelLanguageModel::run_layers(const at::Tensor& ids,
                                          const AttentionContext& ctx) const {
  at::Tensor hidden = model_.embed(ids);
  for (int64_t l = 0; l < model_.num_layers(); ++l) hidden = model_.layer(l).forward(hidden, ctx);
  return hidden;
}

std::vector<std::vector<TokenScore>> ModelLanguageModel::score_packed(
    const std::vector<ScoreGroup>& groups) const {
  c10::InferenceMode guard;
  const PackedRows rows = pack_rows(groups);
  const c10::Device device = model_.device();
  auto long_cpu = at::TensorOptions().dtype(at::kLong);
  auto as_rows = [&](const std::vector<int64_t>& v) {
    return at::tensor(v, long_cpu).view({rows.batch, rows.width}).to(device);
  };
  at::Tensor pos_t = as_rows(rows.positions);
  // Rows holding one continuation input at most are plain causal sequences.
  const bool causal = *std::max_element(rows.segment.begin(), rows.segment.end()) <= 1;
  AttentionContext ctx =
      causal ? model_.causal_attention_context(pos_t)
             : model_.packed_attention_context(pos_t, packed_mask(as_rows(rows.segment)));
  at::Tensor hidden = run_layers(as_rows(rows.ids), ctx);
  std::vector<int64_t> flat, targets;
  for (const auto& pk : rows.picks) {
    flat.push_back(pk.flat);
    targets.push_back(pk.target);
  }
  at::Tensor selected = hidden.reshape({rows.batch * rows.width, hidden.size(2)})
                            .index_select(0, at::tensor(flat, long_cpu).to(device));
  std::vector<double> logprobs;
  std::vector<bool> greedy;
  score_positions(model_, selected, targets, logprobs, greedy);

  std::vector<std::vector<TokenScore>> out(groups.size());
  for (size_t b = 0; b < groups.size(); ++b) out[b].resize(groups[b].suffixes.size());
  for (size_t k = 0; k < rows.picks.size(); ++k) {
    TokenScore& s = out[rows.owner[k].first][rows.owner[k].second];
    s.loglikelihood += logprobs[k];
    s.is_greedy = s.is_greedy && greedy[k];
  }
  return out;
}

std::vector<TokenScore> ModelLanguageModel::score_chunked(const ScoreGroup& group) const {
  c10::InferenceMode guard;
  std::vector<int64_t> row = group.prefix;
  row.insert(row.end(), group.suffixes[0].begin(), group.suffixes[0].end());
  const auto inputs = static_cast<int64_t>(row.size()) - 1;
  const auto first_scored = static_cast<int64_t>(group.score_from[0]);
  KVCache cache = model_.make_cache(1, inputs);
  auto long_opts = at::TensorOptions().dtype(at::kLong).device(model_.device());
  std::vector<double> logprobs;
  std::vector<bool> greedy;
  for (int64_t start = 0; start < inputs; start += options_.chunk_tokens) {
    const int64_t len = std::min(options_.chunk_tokens, inputs - start);
    std::vector<int64_t> chunk(row.begin() + start, row.begin() + start + len);
    at::Tensor ids = at::tensor(chunk, at::kLong).view({1, len}).to(model_.device());
    at::Tensor mask = at::ones({1, len}, long_opts);
    at::Tensor hidden = run_layers(ids, model_.attention_context(mask, &cache));
    cache.commit(mask);
    // Input slot q predicts row[q+1]; slots from first_scored-1 on are scored.
    const int64_t from = std::max(start, first_scored - 1);
    if (from >= start + len) continue;
    std::vector<int64_t> targets(row.begin() + from + 1, row.begin() + start + len + 1);
    score_positions(model_, hidden[0].narrow(0, from - start, start + len - from), targets,
                    logprobs, greedy);
  }
  TokenScore s;
  for (size_t k = 0; k < logprobs.size(); ++k) {
    s.loglikelihood += logprobs[k];
    s.is_greedy = s.is_greedy && greedy[k];
  }
  return {s};
}

// The prefix runs once as a one-row causal sequence into a KV cache; each distinct continuation
// input then runs as its own right-padded row over a copy of that cache (longest first, as many
// rows per pass as the token budget allows, counting the prefix's slots), so it sees the prefix
// at the same positions as in the full row. Scored slots are gathered from the prefix's and the
// rows' hidden states.
std::vector<TokenScore> ModelLanguageModel::score_shared_prefix(const ScoreGroup& group) const {
  c10::InferenceMode guard;
  const c10::Device device = model_.device();
  auto long_opts = at::TensorOptions().dtype(at::kLong).device(device);
  const auto p = static_cast<int64_t>(group.prefix.size());
  KVCache prefix_cache = model_.make_cache(1, p);
  at::Tensor prefix_mask = at::ones({1, p}, long_opts);
  at::Tensor prefix_ids = at::tensor(group.prefix, at::kLong).view({1, p}).to(device);
  std::vector<at::Tensor> pool{
      run_layers(prefix_ids, model_.attention_context(prefix_mask, &prefix_cache))[0]};
  prefix_cache.commit(prefix_mask);

  const std::vector<size_t> owners = group.input_owners();
  std::vector<size_t> inputs;  // suffixes owning a non-empty input
  for (size_t i = 0; i < group.suffixes.size(); ++i)
    if (owners[i] == i && group.suffixes[i].size() > 1) inputs.push_back(i);
  std::stable_sort(inputs.begin(), inputs.end(), [&](size_t a, size_t b) {
    return group.suffixes[a].size() > group.suffixes[b].size();
  });
  std::vector<int64_t> input_at(group.suffixes.size(), -1);  // flat pool index of slot p
  int64_t pooled = p;
  for (size_t start = 0; start < inputs.size();) {
    const auto width = static_cast<int64_t>(group.suffixes[inputs[start]].size()) - 1;
    const int64_t fit = std::max<int64_t>(batch_token_budget(p + width) / (p + width), 1);
    const auto rows = static_cast<int64_t>(std::min<size_t>(fit, inputs.size() - start));
    std::vector<int64_t> ids(rows * width, 0), mask(rows * width, 0);
    for (int64_t r = 0; r < rows; ++r) {
      const auto& s = group.suffixes[inputs[start + r]];
      for (size_t t = 0; t + 1 < s.size(); ++t) {
        ids[r * width + t] = s[t];
        mask[r * width + t] = 1;
      }
    }
    KVCache cache = prefix_cache.repeat_rows(rows, width);
    at::Tensor mask_t = at::tensor(mask, at::kLong).view({rows, width}).to(device);
    at::Tensor hidden = run_layers(at::tensor(ids, at::kLong).view({rows, width}).to(device),
                                   model_.attention_context(mask_t, &cache));
    for (int64_t r = 0; r < rows; ++r) {
      input_at[inputs[start + r]] = pooled;
      pooled += width;
      pool.push_back(hidden[r]);
    }
    start += static_cast<size_t>(rows);
  }

  std::vector<int64_t> flat, targets;
  std::vector<size_t> owner;
  for (size_t i = 0; i < group.suffixes.size(); ++i) {
    for (size_t j = group.score_from[i]; j < group.row_size(i); ++j) {
      const auto q = static_cast<int64_t>(j) - 1;  // the input slot predicting row[j]
      flat.push_back(q < p ? q : input_at[owners[i]] + (q - p));
      targets.push_back(group.suffixes[i][j - group.prefix.size()]);
      owner.push_back(i);
    }
  }
  at::Tensor selected = at::cat(pool, 0).index_select(0, at::tensor(flat, long_opts));
  std::vector<double> logprobs;
  std::vector<bool> greedy;
  score_positions(model_, selected, targets, logprobs, greedy);
  std::vector<TokenScore> out(group.suffixes.size());
  for (size_t k = 0; k < owner.size(); ++k) {
    out[owner[k]].loglikelihood += logprobs[k];
    out[owner[k]].is_greedy = out[owner[k]].is_greedy && greedy[k];
  }
  return out;
}

std::vector<std::vector<int64_t>> ModelLanguageModel::generate(
    const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens,
    const std::function<bool(size_t, const std::vector<int64_t>&)>& stop_row) const {
  GenerateOptions options;
  options.max_new_tokens = max_new_tokens;
  options.stop_at_eos = true;
  options.stop_row = stop_row;
  return greedy_generate(model_, prompts, options).tokens;
}

std::unique_ptr<ModelLanguageModel> make_model_language_model(
    const Model& model, const std::filesystem::path& model_path,
    ModelLanguageModelOptions options) {
  ModelSource source = open_model_source(model_path);
  const int64_t max_length = lm_eval_max_length(source.hf_config, source.tokenizer_config);
  return std::make_unique<ModelLanguageModel>(model, load_model_tokenizer(model_path), max_length,
                                              options);
}

}  // namespace slmq::eval

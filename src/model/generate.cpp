#include "slmq/model/generate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <optional>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/kernels/cpu_decode_ops.h"
#include "slmq/model/decode_loop.h"

namespace slmq {
namespace {

void check_prompts(const Model& model, const std::vector<std::vector<int64_t>>& prompts) {
  if (prompts.empty()) throw ConfigError("generate: no prompts");
  for (size_t row = 0; row < prompts.size(); ++row) {
    if (prompts[row].empty())
      throw ConfigError("generate: prompt " + std::to_string(row) + " is empty");
    for (int64_t id : prompts[row]) {
      if (id < 0 || id >= model.config().vocab_size) {
        throw ConfigError("generate: prompt token id " + std::to_string(id) +
                          " is outside the vocabulary [0, " +
                          std::to_string(model.config().vocab_size) + ")");
      }
    }
  }
}

// Greedy argmax of the last position on the CPU: [B,1,V] -> B ids.
std::vector<int64_t> argmax_last(const at::Tensor& logits) {
  at::Tensor ids = logits.select(1, 0).argmax(-1).to(at::kCPU);
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
}

// The decode loop, when the options and the environment allow it and the model has one.
std::optional<DecodeLoop> make_decode_loop(const Model& model, const GenerateOptions& options) {
  const char* env = std::getenv("SLMQ_DECODE_LOOP");
  const bool off = env != nullptr && std::strcmp(env, "0") == 0;
  if (!options.decode_loop || off || DecodeLoop::unsupported_reason(model)) return std::nullopt;
  return std::optional<DecodeLoop>(std::in_place, model);
}

// A finished row would cost a full decode step per step until the last row stops (GSM8K: one
// long answer keeps a whole batch going), so once a quarter of the rows in the cache are finished
// they leave it; a cache copy per drop is cheaper than the steps it saves.
void drop_finished_rows(const std::vector<bool>& finished, std::vector<int64_t>& active,
                        KVCache& cache) {
  std::vector<int64_t> keep, kept_rows;
  for (size_t k = 0; k < active.size(); ++k) {
    if (finished[active[k]]) continue;
    keep.push_back(static_cast<int64_t>(k));
    kept_rows.push_back(active[k]);
  }
  if (4 * keep.size() > 3 * active.size()) return;
  cache.keep_rows(keep);
  active = std::move(kept_rows);
}

}  // namespace

GenerateResult greedy_generate(const Model& model, const std::vector<std::vector<int64_t>>& prompts,
                               const GenerateOptions& options) {
  c10::InferenceMode guard;
  check_prompts(model, prompts);
  const auto& config = model.config();
  const int64_t pad =
      config.pad_token_id.value_or(config.eos_token_ids.empty() ? 0 : config.eos_token_ids[0]);
  const int64_t batch = static_cast<int64_t>(prompts.size());
  int64_t width = 0;
  for (const auto& p : prompts) width = std::max<int64_t>(width, static_cast<int64_t>(p.size()));

  at::Tensor ids = at::full({batch, width}, pad, at::kLong);
  at::Tensor mask = at::zeros({batch, width}, at::kLong);
  GenerateResult result;
  for (int64_t row = 0; row < batch; ++row) {
    const auto& p = prompts[row];
    const int64_t offset = width - static_cast<int64_t>(p.size());
    ids[row].narrow(0, offset, p.size()).copy_(at::tensor(p, at::kLong));
    mask[row].narrow(0, offset, p.size()).fill_(1);
    result.prompt_tokens += static_cast<int64_t>(p.size());
  }

  KVCache cache = model.make_cache(batch, width + options.max_new_tokens);
  std::optional<DecodeLoop> loop = make_decode_loop(model, options);
  const int64_t vocab = model.config().vocab_size;
  result.tokens.assign(batch, {});
  std::vector<bool> finished(batch, false);
  std::vector<int64_t> active(batch);  // the prompt row of each cache row
  std::iota(active.begin(), active.end(), 0);
  auto start = SteadyClock::now();
  at::Tensor logits = model.forward(ids, mask, &cache, /*last_only=*/true);
  std::vector<int64_t> picked = argmax_last(logits);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    std::vector<int64_t> next(batch, pad);
    for (size_t k = 0; k < active.size(); ++k)
      if (!finished[active[k]]) next[active[k]] = picked[k];
    if (step == 0) {
      result.prefill_seconds = seconds_since(start);
      start = SteadyClock::now();
    }
    bool all_done = true;
    for (int64_t row = 0; row < batch; ++row) {
      result.tokens[row].push_back(next[row]);
      const auto& eos = config.eos_token_ids;
      if (options.stop_at_eos && std::find(eos.begin(), eos.end(), next[row]) != eos.end())
        finished[row] = true;
      else if (!finished[row] && options.stop_row && options.stop_row(row, result.tokens[row]))
        finished[row] = true;
      all_done = all_done && finished[row];
    }
    result.generated_tokens += batch;
    if (options.on_step) options.on_step(result.tokens);
    if (all_done || step + 1 == options.max_new_tokens) break;
    drop_finished_rows(finished, active, cache);
    std::vector<int64_t> feed;
    for (int64_t row : active) feed.push_back(next[row]);
    if (loop) {
      const float* rows = loop->step(feed, cache);
      picked.resize(feed.size());
      for (size_t k = 0; k < feed.size(); ++k) picked[k] = kernels::argmax(rows + k * vocab, vocab);
    } else {
      logits = model.forward(at::tensor(feed, at::kLong).unsqueeze(1), at::Tensor(), &cache, true);
      picked = argmax_last(logits);
    }
  }
  result.decode_seconds = seconds_since(start);
  return result;
}

}  // namespace slmq

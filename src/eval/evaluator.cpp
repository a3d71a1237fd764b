#include "slmq/eval/evaluator.h"

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"
#include "slmq/core/timing.h"
#include "slmq/eval/stem_merge.h"

namespace slmq::eval {
namespace {

std::vector<int64_t> concat(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Indices by descending size; ties keep their order (deterministic).
std::vector<size_t> longest_first(const std::vector<size_t>& size) {
  std::vector<size_t> order(size.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return size[a] > size[b]; });
  return order;
}

// One loglikelihood request in tokens (lm-eval's _encode_pair and its empty-context rule).
std::pair<std::vector<int64_t>, std::vector<int64_t>> encode_pair(
    const LanguageModel& lm, BosPolicy bos, const std::string& context,
    const std::string& continuation, std::map<std::string, std::vector<int64_t>>& context_cache) {
  if (context.empty()) {
    std::vector<int64_t> cont = lm.encode(continuation, /*add_special_tokens=*/false);
    const int64_t prefix = lm.prefix_token();
    if (cont.empty() || cont[0] != prefix) return {{prefix}, cont};
    return {{cont[0]}, std::vector<int64_t>(cont.begin() + 1, cont.end())};
  }
  auto [ctx_text, cont_text] = split_context_continuation(context, continuation);
  auto it = context_cache.find(ctx_text);
  if (it == context_cache.end())
    it = context_cache.emplace(ctx_text, encode_for_eval(lm, ctx_text, bos)).first;
  const std::vector<int64_t>& ctx = it->second;
  std::vector<int64_t> whole = encode_for_eval(lm, ctx_text + cont_text, bos);
  std::vector<int64_t> cont;
  if (whole.size() > ctx.size()) cont.assign(whole.begin() + ctx.size(), whole.end());
  return {ctx, cont};
}

// HF's stopping criterion per stop string: does the decoded tail of `generated` contain it?
struct StopCheck {
  std::string text;
  size_t lookback;  // len(tokens(text)) + 2
};

}  // namespace

const char* bos_policy_name(BosPolicy policy) {
  switch (policy) {
    case BosPolicy::kTokenizerDefault:
      return "default";
    case BosPolicy::kAlways:
      return "always";
    case BosPolicy::kNever:
      return "never";
  }
  return "?";
}

std::optional<BosPolicy> find_bos_policy(std::string_view name) {
  for (BosPolicy p : {BosPolicy::kTokenizerDefault, BosPolicy::kAlways, BosPolicy::kNever})
    if (name == bos_policy_name(p)) return p;
  return std::nullopt;
}

BosPolicy parse_bos_policy(const std::string& name, const std::string& what) {
  if (auto policy = find_bos_policy(name)) return *policy;
  throw ConfigError(what + ": '" + name + "' is not one of default, always, never");
}

int64_t LanguageModel::prefix_token() const {
  if (auto bos = bos_token()) return *bos;
  if (auto eos = eos_token()) return *eos;
  throw DataError(
      "tokenizer has neither a BOS nor an EOS token: lm-eval's prefix token is undefined");
}

std::string LanguageModel::eos_text() const {
  auto eos = eos_token();
  return eos ? decode({*eos}, /*skip_special_tokens=*/false) : std::string();
}

std::vector<int64_t> encode_for_eval(const LanguageModel& lm, const std::string& text,
                                     BosPolicy policy, bool for_generation) {
  switch (policy) {
    case BosPolicy::kNever:
      return lm.encode(text, false);
    case BosPolicy::kAlways: {
      std::vector<int64_t> ids = lm.encode(text, true);
      auto bos = lm.bos_token();
      if (bos && (ids.empty() || ids[0] != *bos)) ids.insert(ids.begin(), *bos);
      return ids;
    }
    case BosPolicy::kTokenizerDefault:
      break;
  }
  // tok_encode compares with decode(prefix_token_id); tok_batch_encode with tokenizer.bos_token.
  std::string marker;
  if (for_generation) {
    if (auto bos = lm.bos_token()) marker = lm.decode({*bos}, false);
  } else if (lm.bos_token() || lm.eos_token()) {
    marker = lm.decode({lm.prefix_token()}, false);
  }
  const bool has_prefix = !marker.empty() && text.starts_with(marker);
  return lm.encode(text, !has_prefix);
}

std::vector<std::pair<std::vector<int64_t>, size_t>> rolling_windows(
    const std::vector<int64_t>& tokens, int64_t prefix_token, int64_t max_length) {
  std::vector<std::pair<std::vector<int64_t>, size_t>> rows;
  const size_t n = tokens.size(), L = static_cast<size_t>(max_length);
  if (n == 0) return rows;
  // First window: [prefix] + T[0:m-1] predicts T[0:m].
  const size_t first = std::min(L, n);
  std::vector<int64_t> row{prefix_token};
  row.insert(row.end(), tokens.begin(), tokens.begin() + first);
  rows.emplace_back(std::move(row), 1);
  // Later windows: input T[end-L-1:end-1] predicts the last w tokens T[end-w:end].
  for (size_t predicted = first; predicted < n;) {
    const size_t w = std::min(n - predicted, L), end = predicted + w;
    rows.emplace_back(std::vector<int64_t>(tokens.begin() + (end - L - 1), tokens.begin() + end),
                      L + 1 - w);
    predicted += w;
  }
  return rows;
}

Evaluator::Evaluator(const LanguageModel& lm, EvaluatorOptions options)
    : lm_(lm), options_(std::move(options)) {}

int64_t Evaluator::budget(int64_t length) const {
  const int64_t full =
      options_.batch_tokens > 0 ? options_.batch_tokens : lm_.batch_token_budget(length);
  return std::max<int64_t>(1, full / stats_.batch_token_divisor);
}

bool Evaluator::try_batch(size_t units, int64_t tokens, const std::function<void()>& run_batch) {
  try {
    run_batch();
    return true;
  } catch (const c10::OutOfMemoryError& e) {
    const std::string what = e.what();
    const std::string first_line = what.substr(0, what.find('\n'));
    if (units <= 1) {
      throw UnsupportedError(fmt::format(
          "out of memory evaluating one batch unit of {} tokens (batch token budget already "
          "divided by {}): {}",
          tokens, stats_.batch_token_divisor, first_line));
    }
    stats_.batch_token_divisor *= 2;
    ++stats_.oom_retries;
    spdlog::warn(
        "out of memory on a batch of {} units ({} tokens); batch token budget divided by {}, "
        "batch retried smaller",
        units, tokens, stats_.batch_token_divisor);
    return false;
  }
}

std::vector<Response> Evaluator::run(const std::vector<Request>& requests) {
  stats_ = {};
  stats_.requests = requests.size();
  std::vector<Response> out(requests.size());
  std::map<RequestType, std::vector<size_t>> by_type;
  for (size_t i = 0; i < requests.size(); ++i) by_type[requests[i].type].push_back(i);
  for (const auto& [type, which] : by_type) {
    switch (type) {
      case RequestType::kLoglikelihood:
        run_loglikelihood(requests, which, out);
        break;
      case RequestType::kLoglikelihoodRolling:
        run_rolling(requests, which, out);
        break;
      case RequestType::kGenerateUntil:
        run_generate(requests, which, out);
        break;
    }
  }
  return out;
}

size_t Evaluator::batch_end(const std::vector<size_t>& size, const std::vector<size_t>& order,
                            size_t start) const {
  // The first group is the longest: the batch is padded to its size.
  const auto width = static_cast<int64_t>(size[order[start]]);
  const int64_t limit = budget(width);
  size_t end = start + 1, real_tokens = size[order[start]];
  for (; end < order.size(); ++end) {
    const auto cells = static_cast<int64_t>(end - start + 1) * width;
    const double padding =
        1.0 - static_cast<double>(real_tokens + size[order[end]]) / static_cast<double>(cells);
    if (cells > limit || padding > lm_.max_padding()) break;
    real_tokens += size[order[end]];
  }
  return end;
}

std::optional<std::vector<TokenScore>> Evaluator::journaled_scores(const std::string& section,
                                                                   size_t index,
                                                                   size_t rows) const {
  const nlohmann::json* value = options_.journal ? options_.journal->find(section, index) : nullptr;
  if (!value) return std::nullopt;
  auto bad = [&] {
    return DataError("evaluation journal: " + section + " group " + std::to_string(index) +
                     " should hold " + std::to_string(rows) + " [loglikelihood, is_greedy] pairs");
  };
  if (!value->is_array() || value->size() != rows) throw bad();
  std::vector<TokenScore> scores;
  for (const auto& pair : *value) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_boolean())
      throw bad();
    scores.push_back({pair[0].get<double>(), pair[1].get<bool>()});
  }
  return scores;
}

std::vector<std::vector<TokenScore>> Evaluator::score_sorted(const std::vector<ScoreGroup>& groups,
                                                             const std::string& unit,
                                                             const std::string& section) {
  std::vector<std::vector<TokenScore>> scores(groups.size());
  std::vector<size_t> size(groups.size());  // packed sizes, computed once
  for (size_t g = 0; g < groups.size(); ++g) size[g] = groups[g].packed_size();
  // Progress counts this run's rows only, so that its rate and ETA are true after a resume.
  size_t total_rows = 0, done_rows = 0;
  std::vector<size_t> order;  // the groups still to compute, longest first
  for (size_t g : longest_first(size)) {
    if (auto resumed = journaled_scores(section, g, groups[g].suffixes.size())) {
      scores[g] = std::move(*resumed);
      stats_.resumed_rows += scores[g].size();
    } else {
      total_rows += groups[g].suffixes.size();
      order.push_back(g);
    }
  }
  for (size_t start = 0; start < order.size();) {
    const auto batch_start = SteadyClock::now();
    const size_t end = batch_end(size, order, start);
    std::vector<ScoreGroup> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(groups[order[k]]);
    std::vector<std::vector<TokenScore>> got;
    const auto padded = static_cast<int64_t>(batch.size() * size[order[start]]);
    if (!try_batch(batch.size(), padded, [&] { got = lm_.score(batch); })) continue;
    if (got.size() != batch.size()) throw InternalError("LanguageModel::score: group count");
    std::vector<std::pair<size_t, nlohmann::json>> record;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (got[i].size() != batch[i].suffixes.size())
        throw InternalError("LanguageModel::score: row count");
      const size_t g = order[start + i];
      stats_.rows += got[i].size();
      stats_.computed_tokens += size[g];
      done_rows += got[i].size();
      nlohmann::json pairs = nlohmann::json::array();
      for (const TokenScore& t : got[i]) pairs.push_back({t.loglikelihood, t.is_greedy});
      record.emplace_back(g, std::move(pairs));
      scores[g] = std::move(got[i]);
    }
    if (options_.journal) options_.journal->record(section, record, seconds_since(batch_start));
    ++stats_.batches;
    if (options_.progress) options_.progress(done_rows, total_rows, unit);
    if (stats_.batches == 1) fault_point("eval");
    start = end;
  }
  return scores;
}

void Evaluator::run_loglikelihood(const std::vector<Request>& requests,
                                  const std::vector<size_t>& which, std::vector<Response>& out) {
  const auto max_length = static_cast<size_t>(lm_.max_length());
  std::map<std::string, std::vector<int64_t>> context_cache;
  // Requests whose rows share the tokens before their first scored position form one group.
  std::map<std::vector<int64_t>, size_t> group_of_prefix;
  std::vector<ScoreGroup> groups;
  std::vector<std::pair<size_t, size_t>> slot(which.size());  // (group, row) per request
  for (size_t k = 0; k < which.size(); ++k) {
    const Request& r = requests[which[k]];
    auto [ctx, cont] = encode_pair(lm_, options_.bos, r.context ? *r.context : std::string(),
                                   r.continuation, context_cache);
    if (cont.empty() || cont.size() > max_length) {
      throw DataError("loglikelihood request (doc " + std::to_string(r.doc_index) + ", choice " +
                      std::to_string(r.choice_index) + ") has " + std::to_string(cont.size()) +
                      " continuation tokens; lm-eval needs 1.." + std::to_string(max_length));
    }
    std::vector<int64_t> row = concat(ctx, cont);
    if (row.size() > max_length + 1) row.erase(row.begin(), row.end() - (max_length + 1));
    const size_t score_from = row.size() - cont.size();
    std::vector<int64_t> prefix(row.begin(), row.begin() + score_from);
    auto [it, fresh] = group_of_prefix.emplace(std::move(prefix), groups.size());
    if (fresh) groups.push_back({it->first, {}, {}});
    ScoreGroup& g = groups[it->second];
    slot[k] = {it->second, g.suffixes.size()};
    g.suffixes.emplace_back(row.begin() + score_from, row.end());
    g.score_from.push_back(score_from);
  }
  const MergedGroups merged = merge_shared_stems(groups, options_.stem_merge);
  auto scores =
      score_sorted(merged.groups, "requests", request_type_name(RequestType::kLoglikelihood));
  for (size_t k = 0; k < which.size(); ++k) {
    const auto [g, row] = merged.where[slot[k].first][slot[k].second];
    const TokenScore& s = scores[g][row];
    out[which[k]].loglikelihood = s.loglikelihood;
    out[which[k]].is_greedy = s.is_greedy;
  }
}

void Evaluator::run_rolling(const std::vector<Request>& requests, const std::vector<size_t>& which,
                            std::vector<Response>& out) {
  std::vector<ScoreGroup> groups;
  std::vector<size_t> owner;  // request index per window
  for (size_t idx : which) {
    const std::vector<int64_t> tokens =
        encode_for_eval(lm_, requests[idx].continuation, options_.bos);
    for (auto& [row, score_from] : rolling_windows(tokens, lm_.prefix_token(), lm_.max_length())) {
      ScoreGroup g;
      g.prefix.assign(row.begin(), row.begin() + score_from);
      g.suffixes.emplace_back(row.begin() + score_from, row.end());
      g.score_from.push_back(score_from);
      groups.push_back(std::move(g));
      owner.push_back(idx);
    }
  }
  auto scores =
      score_sorted(groups, "windows", request_type_name(RequestType::kLoglikelihoodRolling));
  for (size_t idx : which) out[idx].loglikelihood = 0.0;
  // Windows in document order, as lm-eval sums them.
  for (size_t w = 0; w < groups.size(); ++w)
    out[owner[w]].loglikelihood += scores[w][0].loglikelihood;
}

void Evaluator::run_generate(const std::vector<Request>& requests, const std::vector<size_t>& which,
                             std::vector<Response>& out) {
  const std::string eos_text = lm_.eos_text();
  struct Job {
    size_t request;
    std::vector<int64_t> prompt;
    std::vector<std::string> until;
    std::vector<StopCheck> stops;
    int64_t max_gen_toks;
  };
  std::vector<Job> jobs;
  for (size_t idx : which) {
    const Request& r = requests[idx];
    Job job{idx, {}, r.generation.until, {}, r.generation.max_gen_toks};
    if (!eos_text.empty() &&
        std::find(job.until.begin(), job.until.end(), eos_text) == job.until.end())
      job.until.push_back(eos_text);
    const int64_t max_ctx = lm_.max_length() - job.max_gen_toks;
    if (max_ctx <= 0) {
      throw DataError("generate_until request (doc " + std::to_string(r.doc_index) +
                      "): max_gen_toks " + std::to_string(job.max_gen_toks) +
                      " must be below max_length " + std::to_string(lm_.max_length()));
    }
    job.prompt = encode_for_eval(lm_, r.context ? *r.context : std::string(), options_.bos, true);
    if (static_cast<int64_t>(job.prompt.size()) > max_ctx)
      job.prompt.erase(job.prompt.begin(), job.prompt.end() - max_ctx);
    if (job.prompt.empty()) throw DataError("generate_until request with an empty prompt");
    for (const auto& s : job.until)
      job.stops.push_back({s, lm_.encode(s, /*add_special_tokens=*/false).size() + 2});
    jobs.push_back(std::move(job));
  }
  // Longest prompt first; a batch shares one generation budget and stop list. Jobs the journal
  // holds are done.
  const std::string section = request_type_name(RequestType::kGenerateUntil);
  std::vector<size_t> prompt_size;
  for (const Job& job : jobs) prompt_size.push_back(job.prompt.size());
  std::vector<size_t> order;
  size_t done = 0;  // this run's generations (progress)
  for (size_t j : longest_first(prompt_size)) {
    const nlohmann::json* text = options_.journal ? options_.journal->find(section, j) : nullptr;
    if (!text) {
      order.push_back(j);
      continue;
    }
    std::optional<std::string> generation = text_from_journal(*text);
    if (!generation)
      throw DataError("evaluation journal: " + section + " job " + std::to_string(j) +
                      " should hold a generation");
    out[jobs[j].request].generation = std::move(*generation);
    ++stats_.resumed_rows;
  }
  for (size_t start = 0; start < order.size();) {
    const auto batch_start = SteadyClock::now();
    const Job& first = jobs[order[start]];
    const auto width = static_cast<int64_t>(first.prompt.size()) + first.max_gen_toks;
    const int64_t limit = budget(width);
    std::vector<size_t> batch;
    for (size_t k = start; k < order.size(); ++k) {
      const Job& j = jobs[order[k]];
      if (j.max_gen_toks != first.max_gen_toks || j.until != first.until) break;
      if (!batch.empty() && static_cast<int64_t>(batch.size() + 1) * width > limit) break;
      batch.push_back(order[k]);
    }
    std::vector<std::vector<int64_t>> prompts;
    for (size_t j : batch) prompts.push_back(jobs[j].prompt);
    std::vector<size_t> stopped_at(batch.size(), 0);
    auto stop_row = [&](size_t row, const std::vector<int64_t>& generated) {
      for (const auto& stop : jobs[batch[row]].stops) {
        const size_t from = generated.size() > stop.lookback ? generated.size() - stop.lookback : 0;
        std::vector<int64_t> tail(generated.begin() + from, generated.end());
        if (lm_.decode(tail, false).find(stop.text) != std::string::npos) {
          stopped_at[row] = generated.size();
          return true;
        }
      }
      return false;
    };
    std::vector<std::vector<int64_t>> generated;
    std::fill(stopped_at.begin(), stopped_at.end(), 0);
    if (!try_batch(batch.size(), static_cast<int64_t>(batch.size()) * width,
                   [&] { generated = lm_.generate(prompts, first.max_gen_toks, stop_row); }))
      continue;
    std::vector<std::pair<size_t, nlohmann::json>> record;
    for (size_t row = 0; row < batch.size(); ++row) {
      std::vector<int64_t>& tokens = generated.at(row);
      if (stopped_at[row] > 0 && tokens.size() > stopped_at[row]) tokens.resize(stopped_at[row]);
      if (auto eos = lm_.eos_token()) {
        auto at = std::find(tokens.begin(), tokens.end(), *eos);
        if (at != tokens.end()) tokens.erase(at + 1, tokens.end());
      }
      stats_.generated_tokens += tokens.size();
      stats_.computed_tokens += prompts[row].size() + tokens.size();
      const Job& job = jobs[batch[row]];
      out[job.request].generation = truncate_at_stop(lm_.decode(tokens, true), job.until);
      record.emplace_back(batch[row], text_to_journal(out[job.request].generation));
    }
    if (options_.journal) options_.journal->record(section, record, seconds_since(batch_start));
    stats_.rows += batch.size();
    ++stats_.batches;
    done += batch.size();
    if (options_.progress) options_.progress(done, order.size(), "requests");
    start += batch.size();
  }
}

}  // namespace slmq::eval

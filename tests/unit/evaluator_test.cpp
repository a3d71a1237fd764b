// The Evaluator over a fake LanguageModel whose tokenizer merges "ab" into one token (so a
// continuation can merge with its context, as BPE does) and whose log-probabilities are a
// deterministic function of the whole token history. The expected values are computed here
// directly from lm-eval 0.4.12's HFLM rules (specs/lm_eval_tasks.md §8), request by request,
// without batching or sharing; the evaluator must reproduce them exactly (the fake is exact
// arithmetic, so any difference is a logic error) whatever the batch budget.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>

#include "slmq/core/error.h"
#include "slmq/eval/evaluator.h"

namespace slmq::eval {
namespace {

using Tokens = std::vector<int64_t>;
constexpr int64_t kBos = 1, kEos = 2, kMerged = 300;

// log P(t | history): a hash of the whole history, in [-10.6, -1]; the "greedy" token of a
// history gets -0.5, above every other.
int64_t greedy_token(const Tokens& history) {
  int64_t s = 0;
  for (int64_t t : history) s += t;
  return 10 + s % 7;
}
double logp(const Tokens& history, int64_t t) {
  if (t == greedy_token(history)) return -0.5;
  int64_t h = 7;
  for (size_t k = 0; k < history.size(); ++k)
    h = (h * 31 + history[k] * static_cast<int64_t>(k + 1)) % 1000003;
  return -(1.0 + static_cast<double>((h + t * 17) % 97) / 10.0);
}

class FakeLm : public LanguageModel {
 public:
  bool adds_bos = true;  // the tokenizer's add_special_tokens prepends BOS
  bool has_bos = true;
  int64_t max_len = 64;
  // generate: the text each prompt continues with ("\x02" ends it with EOS).
  std::function<std::string(const std::string&)> script;

  mutable std::vector<std::vector<size_t>> batches;  // packed sizes of each score() call

  Tokens encode(const std::string& text, bool add_special_tokens) const override {
    Tokens out;
    if (add_special_tokens && adds_bos && has_bos) out.push_back(kBos);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 2, "ab") == 0) {
        out.push_back(kMerged);
        ++i;
      } else {
        out.push_back(static_cast<unsigned char>(text[i]) + 10);
      }
    }
    return out;
  }
  std::string decode(const Tokens& tokens, bool skip_special) const override {
    std::string s;
    for (int64_t t : tokens) {
      if (t == kBos || t == kEos) {
        if (!skip_special) s += t == kBos ? "<s>" : "</s>";
      } else if (t == kMerged) {
        s += "ab";
      } else {
        s += static_cast<char>(t - 10);
      }
    }
    return s;
  }
  std::optional<int64_t> bos_token() const override {
    return has_bos ? std::optional<int64_t>(kBos) : std::nullopt;
  }
  std::optional<int64_t> eos_token() const override { return kEos; }
  int64_t max_length() const override { return max_len; }
  int64_t batch_token_budget(int64_t length) const override { return 4 * length; }

  std::vector<std::vector<TokenScore>> score(const std::vector<ScoreGroup>& groups) const override {
    std::vector<size_t> sizes;
    std::vector<std::vector<TokenScore>> out;
    for (const auto& g : groups) {
      sizes.push_back(g.packed_size());
      std::vector<TokenScore> rows;
      for (size_t i = 0; i < g.suffixes.size(); ++i) {
        Tokens row = g.prefix;
        row.insert(row.end(), g.suffixes[i].begin(), g.suffixes[i].end());
        TokenScore s;
        for (size_t j = g.score_from[i]; j < row.size(); ++j) {
          Tokens history(row.begin(), row.begin() + j);
          s.loglikelihood += logp(history, row[j]);
          s.is_greedy = s.is_greedy && row[j] == greedy_token(history);
        }
        rows.push_back(s);
      }
      out.push_back(rows);
    }
    batches.push_back(sizes);
    return out;
  }

  std::vector<Tokens> generate(
      const std::vector<Tokens>& prompts, int64_t max_new_tokens,
      const std::function<bool(size_t, const Tokens&)>& stop_row) const override {
    std::vector<Tokens> out;
    for (size_t r = 0; r < prompts.size(); ++r) {
      std::string text = script(decode(prompts[r], true));
      Tokens script_tokens;
      for (char c : text)
        script_tokens.push_back(c == '\x02' ? kEos : static_cast<unsigned char>(c) + 10);
      Tokens got;
      for (int64_t t : script_tokens) {
        if (static_cast<int64_t>(got.size()) == max_new_tokens) break;
        got.push_back(t);
        if (t == kEos || stop_row(r, got)) break;
      }
      out.push_back(got);
    }
    return out;
  }
};

Request ll(size_t doc, size_t idx, std::shared_ptr<const std::string> ctx, std::string cont) {
  Request r;
  r.type = RequestType::kLoglikelihood;
  r.doc_index = doc;
  r.choice_index = idx;
  r.context = std::move(ctx);
  r.continuation = std::move(cont);
  return r;
}

// lm-eval's loglikelihood for one request, written out from HFLM without any grouping.
Response reference_ll(const FakeLm& lm, const Request& r) {
  std::string context = *r.context, continuation = r.continuation;
  Tokens ctx, cont;
  if (context.empty()) {
    cont = lm.encode(continuation, false);
    ctx = {kBos};
  } else {
    size_t keep = context.find_last_not_of(" \n\t");
    keep = keep == std::string::npos ? 0 : keep + 1;
    continuation = context.substr(keep) + continuation;
    context.resize(keep);
    Tokens whole = lm.encode(context + continuation, true);
    ctx = lm.encode(context, true);
    cont.assign(whole.begin() + ctx.size(), whole.end());
  }
  Tokens all = ctx;
  all.insert(all.end(), cont.begin(), cont.end());
  const size_t keep = std::min(all.size(), static_cast<size_t>(lm.max_len) + 1);
  Tokens row(all.end() - keep, all.end());
  Response out;
  out.is_greedy = true;
  for (size_t j = row.size() - cont.size(); j < row.size(); ++j) {
    Tokens history(row.begin(), row.begin() + j);
    out.loglikelihood += logp(history, row[j]);
    out.is_greedy = out.is_greedy && row[j] == greedy_token(history);
  }
  return out;
}

std::vector<Request> mixed_requests() {
  auto c1 = std::make_shared<const std::string>("Question: cab or dab?\nAnswer:");
  auto c2 = std::make_shared<const std::string>("x a");  // "a" + " b..." never merges across " "
  auto c3 = std::make_shared<const std::string>("ends with a space ");
  auto c4 = std::make_shared<const std::string>("merge a");
  auto long_ctx = std::make_shared<const std::string>(std::string(90, 'q') + " tail:");
  auto empty = std::make_shared<const std::string>("");
  // Interleaved docs and lengths, so sorting must be undone.
  return {ll(0, 0, c1, " cab"),         ll(1, 0, c2, " b"),
          ll(0, 1, c1, " dab"),         ll(2, 0, c3, "yes"),
          ll(3, 0, c4, "b c"),          ll(1, 1, c2, " bbbbbbbb"),
          ll(4, 0, long_ctx, " short"), ll(4, 1, long_ctx, " a much longer continuation here"),
          ll(2, 1, c3, " no"),          ll(5, 0, empty, "free text"),
          ll(0, 2, c1, " neither")};
}

TEST(Evaluator, LoglikelihoodMatchesHflmRulesForAnyBatchBudget) {
  FakeLm lm;
  const auto requests = mixed_requests();
  for (int64_t budget : {int64_t{0}, int64_t{1}, int64_t{50}, int64_t{1} << 30}) {
    lm.batches.clear();
    Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, budget, {}});
    auto got = evaluator.run(requests);
    ASSERT_EQ(got.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      Response want = reference_ll(lm, requests[i]);
      EXPECT_EQ(got[i].loglikelihood, want.loglikelihood)
          << "request " << i << " budget " << budget;
      EXPECT_EQ(got[i].is_greedy, want.is_greedy) << "request " << i;
    }
    // Batches come longest first.
    std::vector<size_t> sizes;
    for (const auto& b : lm.batches) sizes.insert(sizes.end(), b.begin(), b.end());
    EXPECT_TRUE(std::is_sorted(sizes.rbegin(), sizes.rend())) << "budget " << budget;
  }
}

// An accelerator with little memory: a score() call over more than `cap` padded tokens fails to
// allocate, as CUDA's caching allocator does (c10::OutOfMemoryError).
class SmallMemoryLm : public FakeLm {
 public:
  size_t cap = 0;
  mutable size_t failures = 0;
  mutable size_t largest_ok = 0;  // padded tokens of the largest batch that ran
  std::vector<std::vector<TokenScore>> score(const std::vector<ScoreGroup>& groups) const override {
    size_t width = 0;
    for (const auto& g : groups) width = std::max(width, g.packed_size());
    if (groups.size() * width > cap) {
      ++failures;
      TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 2.00 GiB");
    }
    largest_ok = std::max(largest_ok, groups.size() * width);
    return FakeLm::score(groups);
  }
};

TEST(Evaluator, OutOfMemoryHalvesTheBatchBudgetAndRetriesWithTheSameResults) {
  SmallMemoryLm lm;
  const auto requests = mixed_requests();
  size_t longest = 0;  // the longest group's packed size: one group alone must fit
  {
    Evaluator probe(lm, {BosPolicy::kTokenizerDefault, 1, {}});
    lm.cap = std::numeric_limits<size_t>::max();
    probe.run(requests);
    for (const auto& b : lm.batches) longest = std::max(longest, b[0]);
  }
  lm.cap = 2 * longest;
  lm.batches.clear();
  Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, int64_t{1} << 30, {}});
  auto got = evaluator.run(requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    Response want = reference_ll(lm, requests[i]);
    EXPECT_EQ(got[i].loglikelihood, want.loglikelihood) << "request " << i;
    EXPECT_EQ(got[i].is_greedy, want.is_greedy) << "request " << i;
  }
  EXPECT_GT(lm.failures, 0u);
  EXPECT_EQ(evaluator.stats().oom_retries, lm.failures);  // recorded, one per failed batch
  EXPECT_GE(evaluator.stats().batch_token_divisor, int64_t{1} << lm.failures);
  EXPECT_LE(lm.largest_ok, lm.cap);

  lm.cap = longest - 1;  // the longest group alone does not fit: a clear error, not a loop
  Evaluator hopeless(lm, {BosPolicy::kTokenizerDefault, int64_t{1} << 30, {}});
  try {
    hopeless.run(requests);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("out of memory evaluating one batch unit of " +
                                         std::to_string(longest) + " tokens"),
              std::string::npos)
        << e.what();
  }
}

TEST(Evaluator, ChoicesOfOneContextShareOneComputedPrefix) {
  FakeLm lm;
  auto ctx = std::make_shared<const std::string>("The shared context of four choices:");
  std::vector<Request> requests;
  for (const char* c : {" alpha", " beta", " gamma", " delta"})
    requests.push_back(ll(0, requests.size(), ctx, c));
  Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, 1 << 20, {}});
  auto got = evaluator.run(requests);
  ASSERT_EQ(lm.batches.size(), 1u);
  ASSERT_EQ(lm.batches[0].size(), 1u) << "four choices of one context must form one group";
  const size_t ctx_tokens = lm.encode(*ctx, true).size();
  size_t unshared = 0;
  for (const auto& r : requests)
    unshared += ctx_tokens + lm.encode(r.continuation, false).size() - 1;
  EXPECT_EQ(evaluator.stats().computed_tokens, unshared - 3 * ctx_tokens);
  for (size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(got[i].loglikelihood, reference_ll(lm, requests[i]).loglikelihood);
}

TEST(Evaluator, ItemsSharingAFewShotStemComputeItOnce) {
  // MMLU 5-shot in miniature: every question repeats the same few-shot examples.
  FakeLm lm;
  lm.max_len = 1024;
  const std::string stem = "Examples: " + std::string(60, 'e') + "\n\n";
  std::vector<Request> requests;
  size_t unshared = 0;
  for (const char* q : {"Q: first?\nA:", "Q: second one?\nA:", "Q: 3rd?\nA:"}) {
    auto ctx = std::make_shared<const std::string>(stem + q);
    for (const char* c : {" A", " B", " C", " D"}) {
      requests.push_back(ll(requests.size() / 4, requests.size() % 4, ctx, c));
    }
    // The answers' inputs (all but their last token: " ") are equal, so shared too.
    unshared += lm.encode(*ctx, true).size() + lm.encode(" A", false).size() - 1;
  }
  Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, 1 << 20, {}});
  auto got = evaluator.run(requests);
  const size_t stem_tokens = lm.encode(stem + "Q: ", true).size();
  EXPECT_EQ(evaluator.stats().computed_tokens, unshared - 2 * stem_tokens);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got[i].loglikelihood, reference_ll(lm, requests[i]).loglikelihood) << i;
    EXPECT_EQ(got[i].is_greedy, reference_ll(lm, requests[i]).is_greedy) << i;
  }
  EvaluatorOptions unmerged{BosPolicy::kTokenizerDefault, 1 << 20, {}};
  unmerged.stem_merge.max_width = 0;
  Evaluator plain(lm, unmerged);
  plain.run(requests);
  EXPECT_EQ(plain.stats().computed_tokens, unshared);
}

TEST(Evaluator, ContinuationTokensAreTheSuffixOfTheJointEncoding) {
  // "merge a" + "b c": the joint text tokenizes "ab" as one token, so the context's last token
  // "a" is not a prefix of the joint encoding; lm-eval still scores whole[len(ctx):].
  FakeLm lm;
  auto ctx = std::make_shared<const std::string>("merge a");
  Evaluator evaluator(lm, {});
  auto got = evaluator.run({ll(0, 0, ctx, "b c")});
  Tokens whole = lm.encode("merge ab c", true), ctx_tokens = lm.encode("merge a", true);
  Tokens row = ctx_tokens;
  row.insert(row.end(), whole.begin() + ctx_tokens.size(), whole.end());
  double want = 0;
  for (size_t j = ctx_tokens.size(); j < row.size(); ++j)
    want += logp(Tokens(row.begin(), row.begin() + j), row[j]);
  EXPECT_EQ(got[0].loglikelihood, want);
}

TEST(Evaluator, EmptyContinuationTokensAreAnError) {
  FakeLm lm;
  auto ctx = std::make_shared<const std::string>("context");
  Evaluator evaluator(lm, {});
  EXPECT_THROW(evaluator.run({ll(0, 0, ctx, "")}), DataError);
}

TEST(Evaluator, BosPolicies) {
  FakeLm lm;
  lm.adds_bos = false;
  EXPECT_EQ(encode_for_eval(lm, "hi", BosPolicy::kTokenizerDefault), (Tokens{'h' + 10, 'i' + 10}));
  EXPECT_EQ(encode_for_eval(lm, "hi", BosPolicy::kAlways), (Tokens{kBos, 'h' + 10, 'i' + 10}));
  lm.adds_bos = true;
  EXPECT_EQ(encode_for_eval(lm, "hi", BosPolicy::kTokenizerDefault),
            (Tokens{kBos, 'h' + 10, 'i' + 10}));
  EXPECT_EQ(encode_for_eval(lm, "hi", BosPolicy::kAlways), (Tokens{kBos, 'h' + 10, 'i' + 10}));
  EXPECT_EQ(encode_for_eval(lm, "hi", BosPolicy::kNever), (Tokens{'h' + 10, 'i' + 10}));
  // A text that already starts with the prefix token's text gets no second BOS.
  EXPECT_EQ(encode_for_eval(lm, "<s>", BosPolicy::kTokenizerDefault), lm.encode("<s>", false));
  EXPECT_EQ(parse_bos_policy("never", "--bos"), BosPolicy::kNever);
  EXPECT_THROW(parse_bos_policy("sometimes", "--bos"), ConfigError);
}

// lm-eval's utils.get_rolling_token_windows(context_len=1) and make_disjoint_window, then
// _loglikelihood_tokens' row (ctx + cont)[-(L+1):] with the last len(cont) tokens scored.
std::vector<std::pair<Tokens, size_t>> reference_windows(const Tokens& t, int64_t prefix,
                                                         size_t L) {
  std::vector<std::pair<Tokens, Tokens>> pairs;
  if (!t.empty()) {
    const size_t pred_len = L;  // max_seq_len - context_len + 1
    const size_t first = std::min(L, t.size());
    Tokens a{prefix};
    a.insert(a.end(), t.begin(), t.begin() + first - 1);
    pairs.emplace_back(a, Tokens(t.begin(), t.begin() + first));
    for (size_t predicted = first; predicted < t.size();) {
      const size_t w = std::min(t.size() - predicted, pred_len), end = predicted + w;
      pairs.emplace_back(Tokens(t.begin() + (end - L - 1), t.begin() + (end - 1)),
                         Tokens(t.begin() + (end - w), t.begin() + end));
      predicted += w;
    }
  }
  std::vector<std::pair<Tokens, size_t>> rows;
  for (auto& [a, b] : pairs) {
    Tokens ctx(a.begin(), a.begin() + (a.size() - (b.size() - 1)));  // make_disjoint_window
    Tokens all = ctx;
    all.insert(all.end(), b.begin(), b.end());
    const size_t keep = std::min(all.size(), L + 1);
    Tokens row(all.end() - keep, all.end());
    rows.emplace_back(row, row.size() - b.size());
  }
  return rows;
}

TEST(RollingWindows, MatchLmEvalForAllLengths) {
  for (size_t L : {1u, 2u, 3u, 7u, 16u}) {
    for (size_t n = 0; n <= 40; ++n) {
      Tokens t(n);
      for (size_t i = 0; i < n; ++i) t[i] = 100 + static_cast<int64_t>(i);
      auto got = rolling_windows(t, kBos, static_cast<int64_t>(L));
      auto want = reference_windows(t, kBos, L);
      ASSERT_EQ(got, want) << "n=" << n << " L=" << L;
      // Every token is scored exactly once.
      size_t scored = 0;
      for (const auto& [row, from] : got) scored += row.size() - from;
      EXPECT_EQ(scored, n);
    }
  }
}

TEST(RollingWindows, SpecWorkedExample) {
  // specs/lm_eval_tasks.md §8.4: n=5000, L=2048 -> inputs [P]+T[0:2047], T[2047:4095],
  // T[2951:4999]; predictions T[0:2048], T[2048:4096], T[4096:5000].
  Tokens t(5000);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int64_t>(i) + 10;
  auto w = rolling_windows(t, kBos, 2048);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].first.front(), kBos);
  EXPECT_EQ(w[0].first.size(), 2049u);
  EXPECT_EQ(w[0].second, 1u);
  EXPECT_EQ(w[1].first.front(), t[2047]);
  EXPECT_EQ(w[1].first.size() - w[1].second, 2048u);
  EXPECT_EQ(w[2].first.front(), t[2951]);
  EXPECT_EQ(w[2].first.back(), t[4999]);
  EXPECT_EQ(w[2].first.size() - w[2].second, 904u);
}

TEST(Evaluator, RollingSumsWindowsPerDocumentInRequestOrder) {
  FakeLm lm;
  lm.max_len = 8;
  std::vector<std::string> texts = {"a short one", "", "a much longer document with many windows",
                                    "ab ab ab ab ab ab ab"};
  std::vector<Request> requests;
  for (size_t i = 0; i < texts.size(); ++i) {
    Request r;
    r.type = RequestType::kLoglikelihoodRolling;
    r.doc_index = i;
    r.context = std::make_shared<const std::string>("");
    r.continuation = texts[i];
    requests.push_back(r);
  }
  for (int64_t budget : {int64_t{1}, int64_t{1} << 20}) {
    Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, budget, {}});
    auto got = evaluator.run(requests);
    for (size_t i = 0; i < texts.size(); ++i) {
      // lm-eval sums each window, then the windows.
      double want = 0;
      for (const auto& [row, from] : reference_windows(lm.encode(texts[i], true), kBos, 8)) {
        double window = 0;
        for (size_t j = from; j < row.size(); ++j)
          window += logp(Tokens(row.begin(), row.begin() + j), row[j]);
        want += window;
      }
      EXPECT_EQ(got[i].loglikelihood, want) << texts[i];
    }
  }
}

TEST(Evaluator, GenerateStopsAtStopStringsEosAndTokenBudget) {
  FakeLm lm;
  lm.script = [](const std::string& prompt) -> std::string {
    if (prompt.ends_with("1")) return " 42 is it.\n\nQuestion: next one";
    if (prompt.ends_with("2")) return " ends with eos\x02 never seen";
    if (prompt.ends_with("3")) return " no stop string at all in this long text";
    return " Question:";  // a stop string at once: only the space before it is kept
  };
  std::vector<Request> requests;
  for (const char* p : {"Q1", "Q2", "Q3", "Q4"}) {
    Request r;
    r.type = RequestType::kGenerateUntil;
    r.doc_index = requests.size();
    r.context = std::make_shared<const std::string>(p);
    r.generation.until = {"Question:", "\n\n"};
    r.generation.max_gen_toks = 12;
    requests.push_back(r);
  }
  for (int64_t budget : {int64_t{1}, int64_t{1} << 20}) {
    Evaluator evaluator(lm, {BosPolicy::kTokenizerDefault, budget, {}});
    auto got = evaluator.run(requests);
    EXPECT_EQ(got[0].generation, " 42 is it.");
    EXPECT_EQ(got[1].generation, " ends with e");  // 12 tokens, before the EOS
    EXPECT_EQ(got[2].generation, " no stop str");
    EXPECT_EQ(got[3].generation, " ");
  }
  lm.max_len = 12;  // max_gen_toks must stay below max_length
  Evaluator evaluator(lm, {});
  EXPECT_THROW(evaluator.run(requests), DataError);
}

TEST(Evaluator, GenerateLeftTruncatesTheContext) {
  FakeLm lm;
  lm.max_len = 16;
  std::string seen;
  lm.script = [&](const std::string& prompt) {
    seen = prompt;
    return std::string(" x");
  };
  Request r;
  r.type = RequestType::kGenerateUntil;
  r.context = std::make_shared<const std::string>("0123456789abcdefghij");
  r.generation.max_gen_toks = 6;
  Evaluator evaluator(lm, {});
  evaluator.run({r});
  // max_length - max_gen_toks = 10 tokens: BOS and the leading digits are dropped.
  Tokens want = lm.encode(*r.context, true);
  want.erase(want.begin(), want.end() - 10);
  EXPECT_EQ(seen, lm.decode(want, true));
}

// Keeps the journal in memory and "kills" the run (throws) when asked to record batch number
// `stop_after`, after the model computed it: what an interrupted process leaves behind.
class MemoryJournal : public EvalJournal {
 public:
  size_t stop_after = std::numeric_limits<size_t>::max();
  size_t records = 0;
  std::map<std::pair<std::string, size_t>, nlohmann::json> units;

  const nlohmann::json* find(const std::string& section, size_t index) const override {
    auto it = units.find({section, index});
    return it == units.end() ? nullptr : &it->second;
  }
  void record(const std::string& section,
              const std::vector<std::pair<size_t, nlohmann::json>>& batch, double) override {
    if (records == stop_after) throw std::runtime_error("interrupted");
    ++records;
    for (const auto& [index, value] : batch) units[{section, index}] = value;
  }
};

TEST(Evaluator, InterruptedRunResumesFromTheJournalWithTheSameResults) {
  FakeLm lm;
  lm.max_len = 40;  // the long rolling document takes several windows
  lm.script = [](const std::string& prompt) {
    return prompt.ends_with("1") ? std::string(" one\n\nnext") : std::string(" two\x02");
  };
  std::vector<Request> requests = mixed_requests();
  const std::string long_text(110, 'w');
  for (const std::string& text : {long_text, std::string("ab ab ab")}) {
    Request r;
    r.type = RequestType::kLoglikelihoodRolling;
    r.doc_index = requests.size();
    r.context = std::make_shared<const std::string>("");
    r.continuation = text;
    requests.push_back(r);
  }
  for (const char* prompt : {"Q1", "Q2"}) {
    Request r;
    r.type = RequestType::kGenerateUntil;
    r.doc_index = requests.size();
    r.context = std::make_shared<const std::string>(prompt);
    r.generation.until = {"\n\n"};
    r.generation.max_gen_toks = 6;
    requests.push_back(r);
  }
  const EvaluatorOptions options{BosPolicy::kTokenizerDefault, 1, {}};  // a batch per group
  Evaluator plain(lm, options);
  const std::vector<Response> want = plain.run(requests);
  const size_t all_batches = plain.stats().batches;
  for (size_t stop_after : {size_t{0}, size_t{1}, size_t{4}, all_batches - 1}) {
    MemoryJournal journal;
    journal.stop_after = stop_after;
    EvaluatorOptions with_journal = options;
    with_journal.journal = &journal;
    EXPECT_THROW(Evaluator(lm, with_journal).run(requests), std::runtime_error);
    EXPECT_EQ(journal.records, stop_after);

    journal.stop_after = std::numeric_limits<size_t>::max();
    // Progress counts this run's work only: each section's last call (done == total) adds up
    // to the rows computed.
    size_t reported_total = 0;
    with_journal.progress = [&](size_t done, size_t total, const std::string&) {
      EXPECT_LE(done, total);
      if (done == total) reported_total += total;
    };
    Evaluator resumed(lm, with_journal);
    const std::vector<Response> got = resumed.run(requests);
    with_journal.progress = nullptr;
    EXPECT_EQ(resumed.stats().batches, all_batches - stop_after) << "stop after " << stop_after;
    EXPECT_EQ(resumed.stats().resumed_rows + resumed.stats().rows, plain.stats().rows);
    EXPECT_EQ(reported_total, resumed.stats().rows);
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(got[i].loglikelihood, want[i].loglikelihood) << i << " stop " << stop_after;
      EXPECT_EQ(got[i].is_greedy, want[i].is_greedy) << i;
      EXPECT_EQ(got[i].generation, want[i].generation) << i;
    }
    // A complete journal answers everything without the model.
    Evaluator again(lm, with_journal);
    EXPECT_EQ(again.run(requests).size(), requests.size());
    EXPECT_EQ(again.stats().batches, 0u);
  }
}

}  // namespace
}  // namespace slmq::eval

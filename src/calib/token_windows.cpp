#include "slmq/calib/token_windows.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <map>
#include <numeric>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/py_text.h"
#include "slmq/data/python_random.h"
#include "slmq/data/wikitext.h"
#include "slmq/tokenizer/tokenizer.h"

namespace slmq {
namespace {

// Documents tokenized on first use, each at most once.
class LazyTokens {
 public:
  LazyTokens(const std::vector<std::string>& docs, const Encoder& encode)
      : docs_(docs), encode_(encode) {}
  const std::vector<int32_t>& operator[](size_t i) {
    auto it = cache_.find(i);
    if (it == cache_.end()) it = cache_.emplace(i, encode_(docs_[i])).first;
    return it->second;
  }
  size_t tokenized() const { return cache_.size(); }

 private:
  const std::vector<std::string>& docs_;
  const Encoder& encode_;
  std::map<size_t, std::vector<int32_t>> cache_;
};

CalibrationWindows from_rows(const std::vector<std::vector<int32_t>>& rows, int64_t seqlen,
                             bool masked) {
  const auto n = static_cast<int64_t>(rows.size());
  CalibrationWindows w;
  w.ids = at::zeros({n, seqlen}, at::kLong);
  if (masked) w.mask = at::zeros({n, seqlen}, at::kLong);
  auto ids = w.ids.accessor<int64_t, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& row = rows[static_cast<size_t>(r)];
    for (size_t t = 0; t < row.size(); ++t) ids[r][static_cast<int64_t>(t)] = row[t];
    if (masked) w.mask[r].narrow(0, 0, static_cast<int64_t>(row.size())).fill_(1);
  }
  return w;
}

// random.randint(0, hi) as CPython computes it.
int64_t py_randint0(data::PyRandom& rng, int64_t hi) {
  return static_cast<int64_t>(rng.randbelow(static_cast<uint64_t>(hi + 1)));
}

// GPTQ get_wikitext2: one tokenization of the joined documents, random windows.
CalibrationWindows random_windows(const std::vector<std::string>& docs, const Encoder& encode,
                                  const CalibrationConfig& c) {
  std::string joined;
  for (size_t i = 0; i < docs.size(); ++i) joined += (i ? "\n\n" : "") + docs[i];
  const std::vector<int32_t> tokens = encode(joined);
  const auto length = static_cast<int64_t>(tokens.size());
  if (length <= c.seqlen) {
    throw DataError(
        fmt::format("calibration source '{}' has {} tokens, fewer than the {} + 1 that "
                    "one random window of seqlen {} needs",
                    c.source, length, c.seqlen, c.seqlen));
  }
  data::PyRandom rng(c.seed);
  std::vector<std::vector<int32_t>> rows;
  for (int64_t n = 0; n < c.nsamples; ++n) {
    const int64_t start = py_randint0(rng, length - c.seqlen - 1);
    rows.emplace_back(tokens.begin() + start, tokens.begin() + start + c.seqlen);
  }
  CalibrationWindows w = from_rows(rows, c.seqlen, false);
  w.tokenized_documents = 1;
  return w;
}

// GPTQ get_c4: random documents until one has ≥ seqlen tokens, then a random window in it.
CalibrationWindows random_documents(const std::vector<std::string>& docs, const Encoder& encode,
                                    const CalibrationConfig& c) {
  LazyTokens tokens(docs, encode);
  data::PyRandom rng(c.seed);
  std::vector<std::vector<int32_t>> rows;
  for (int64_t n = 0; n < c.nsamples; ++n) {
    size_t doc = 0;
    while (true) {
      doc = static_cast<size_t>(py_randint0(rng, static_cast<int64_t>(docs.size()) - 1));
      if (static_cast<int64_t>(tokens[doc].size()) >= c.seqlen) break;
      if (tokens.tokenized() == docs.size()) {
        bool any = false;
        for (size_t i = 0; i < docs.size() && !any; ++i)
          any = static_cast<int64_t>(tokens[i].size()) >= c.seqlen;
        if (!any)
          throw DataError(fmt::format("calibration source '{}': no document has {} tokens",
                                      c.source, c.seqlen));
      }
    }
    const auto& t = tokens[doc];
    const auto length = static_cast<int64_t>(t.size());
    if (length == c.seqlen) {
      // random.randint(0, -1) raises in the reference too.
      throw DataError(fmt::format(
          "calibration source '{}': document {} has exactly seqlen = {} tokens, for which GPTQ's "
          "get_c4 raises (randint(0, -1)); choose another seed or seqlen",
          c.source, doc, c.seqlen));
    }
    const int64_t start = py_randint0(rng, length - c.seqlen - 1);
    rows.emplace_back(t.begin() + start, t.begin() + start + c.seqlen);
  }
  CalibrationWindows w = from_rows(rows, c.seqlen, false);
  w.tokenized_documents = static_cast<int64_t>(tokens.tokenized());
  return w;
}

std::vector<size_t> document_order(size_t count, const CalibrationConfig& c) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  if (c.shuffle) data::PyRandom(c.seed).shuffle(order);
  return order;
}

// SmoothQuant get_act_scales: the first nsamples documents, each truncated to seqlen tokens.
CalibrationWindows truncated_documents(const std::vector<std::string>& docs, const Encoder& encode,
                                       const CalibrationConfig& c) {
  std::vector<std::vector<int32_t>> rows;
  for (size_t i : document_order(docs.size(), c)) {
    if (static_cast<int64_t>(rows.size()) == c.nsamples) break;
    std::vector<int32_t> t = encode(docs[i]);
    if (static_cast<int64_t>(t.size()) > c.seqlen) t.resize(static_cast<size_t>(c.seqlen));
    rows.push_back(std::move(t));
  }
  if (rows.empty()) throw DataError("calibration source '" + c.source + "' has no documents");
  CalibrationWindows w = from_rows(rows, c.seqlen, true);
  w.tokenized_documents = static_cast<int64_t>(rows.size());
  return w;
}

// AWQ get_calib_dataset: stripped documents of at most max_document_tokens tokens, the first
// nsamples of them concatenated and cut into blocks of seqlen (the remainder is dropped).
CalibrationWindows packed_documents(const std::vector<std::string>& docs, const Encoder& encode,
                                    const CalibrationConfig& c) {
  const int64_t max_tokens = c.max_document_tokens > 0 ? c.max_document_tokens : c.seqlen;
  std::vector<int32_t> stream;
  int64_t kept = 0, tokenized = 0;
  for (size_t i : document_order(docs.size(), c)) {
    if (kept == c.nsamples) break;
    const std::vector<int32_t> t = encode(data::py_strip(docs[i]));
    ++tokenized;
    if (static_cast<int64_t>(t.size()) > max_tokens || t.empty()) continue;
    stream.insert(stream.end(), t.begin(), t.end());
    ++kept;
  }
  const int64_t blocks = static_cast<int64_t>(stream.size()) / c.seqlen;
  if (blocks == 0) {
    throw DataError(
        fmt::format("calibration source '{}': the {} kept documents give {} tokens, "
                    "fewer than one block of seqlen {}",
                    c.source, kept, stream.size(), c.seqlen));
  }
  std::vector<std::vector<int32_t>> rows;
  for (int64_t b = 0; b < blocks; ++b)
    rows.emplace_back(stream.begin() + b * c.seqlen, stream.begin() + (b + 1) * c.seqlen);
  CalibrationWindows w = from_rows(rows, c.seqlen, false);
  w.tokenized_documents = tokenized;
  return w;
}

}  // namespace

std::vector<std::string> load_calibration_documents(const std::filesystem::path& path,
                                                    CalibFormat format,
                                                    const std::string& text_field) {
  switch (format) {
    case CalibFormat::kText:
      return {data::read_text_file(path)};
    case CalibFormat::kWikitext:
      return data::wikitext_rows_from_raw(data::read_text_file(path));
    case CalibFormat::kJsonl: {
      std::vector<std::string> docs;
      for (const auto& row : data::read_jsonl(path))
        docs.push_back(data::json_string(row.value, text_field.c_str(), path, row.line));
      if (docs.empty()) data::throw_data_error(path, 0, "no documents");
      return docs;
    }
  }
  throw InternalError("unknown CalibFormat");
}

Encoder tokenizer_encoder(const Tokenizer& tokenizer) {
  return [&tokenizer](const std::string& text) { return tokenizer.encode(text, true); };
}

CalibrationWindows sample_windows(const std::vector<std::string>& documents, const Encoder& encode,
                                  const CalibrationConfig& config) {
  if (documents.empty())
    throw DataError("calibration source '" + config.source + "' has no documents");
  switch (config.sampling) {
    case CalibSampling::kRandomWindows:
      return random_windows(documents, encode, config);
    case CalibSampling::kRandomDocuments:
      return random_documents(documents, encode, config);
    case CalibSampling::kTruncatedDocuments:
      return truncated_documents(documents, encode, config);
    case CalibSampling::kPackedDocuments:
      return packed_documents(documents, encode, config);
  }
  throw InternalError("unknown CalibSampling");
}

CalibrationWindows build_calibration_windows(const CalibrationConfig& config,
                                             const Tokenizer& tokenizer,
                                             const std::filesystem::path& data_dir) {
  const auto path = resolve_calibration_source(config, data_dir);
  const auto docs = load_calibration_documents(path, config.format, config.text_field);
  return sample_windows(docs, tokenizer_encoder(tokenizer), config);
}

}  // namespace slmq

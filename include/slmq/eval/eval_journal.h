#pragma once
// Resuming an interrupted evaluation. A full CPU run of one task takes hours (HellaSwag: ~3.5 h on
// one core for SmolLM2-135M); the Evaluator records every finished batch in a journal and, run
// again on the same requests, model and settings, takes the recorded results instead of
// recomputing them.
//
// Units are identified by (section, index): section is the request type's name, index the
// position of a score group or generation job, which depends only on the requests, the tokenizer
// and the evaluator options that shape groups (BOS policy, stem merging) — all covered by the
// fingerprint. Batch size is not: it changes float rounding only.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace slmq::eval {

class EvalJournal {
 public:
  virtual ~EvalJournal() = default;
  // The value recorded for a unit by this or an earlier run, or nullptr.
  virtual const nlohmann::json* find(const std::string& section, size_t index) const = 0;
  // Records one finished batch: each unit's value, and the model seconds the batch took.
  virtual void record(const std::string& section,
                      const std::vector<std::pair<size_t, nlohmann::json>>& units,
                      double seconds) = 0;
};

// A text as a journal value, losslessly: a JSON string when it is valid UTF-8, else
// {"hex": "..."} (a generation cut inside a multi-byte character).
nlohmann::json text_to_journal(const std::string& text);
// The text back; nullopt when `value` is neither form.
std::optional<std::string> text_from_journal(const nlohmann::json& value);

// A journal in a JSON-lines file: a header {"slmquant_eval_journal": 1, "fingerprint": F}, then
// one line per batch {"section", "seconds", "units": [[index, value], ...]}, appended and flushed
// as batches finish. A file with another fingerprint (other requests, model or settings) is
// replaced; a torn last line (the process was killed mid-write) is dropped.
class FileEvalJournal : public EvalJournal {
 public:
  // resume = false: start afresh even when the file matches. Holds an exclusive lock on
  // `path`.lock while it lives: a second journal on the same file (another process evaluating
  // the same task into the same folder) throws DataError naming it.
  FileEvalJournal(std::filesystem::path path, std::string fingerprint, bool resume = true);
  ~FileEvalJournal() override;
  FileEvalJournal(const FileEvalJournal&) = delete;
  FileEvalJournal& operator=(const FileEvalJournal&) = delete;

  const nlohmann::json* find(const std::string& section, size_t index) const override;
  void record(const std::string& section,
              const std::vector<std::pair<size_t, nlohmann::json>>& units, double seconds) override;

  // What the file held when opened: units and the model seconds earlier runs spent on them.
  size_t resumed_units() const { return resumed_units_; }
  double resumed_seconds() const { return resumed_seconds_; }

 private:
  // Takes the batches of a matching file (up to the first unreadable line) into the journal and
  // their lines into `kept`; an absent or other file leaves both empty.
  void load(const std::string& fingerprint, std::vector<std::string>& kept);
  // Rewrites the file as the header plus the batches loaded, then opens it for appending.
  void rewrite(const std::string& fingerprint, const std::vector<std::string>& lines);

  std::filesystem::path path_;
  std::map<std::pair<std::string, size_t>, nlohmann::json> units_;
  size_t resumed_units_ = 0;
  double resumed_seconds_ = 0.0;
  std::ofstream out_;
  int lock_fd_ = -1;
};

}  // namespace slmq::eval

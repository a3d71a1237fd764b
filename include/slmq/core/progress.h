#pragma once
// Progress of a long loop on stderr: a redrawn bar with rate and ETA when stderr is a terminal,
// otherwise one log line at most every `log_every_seconds` (and at the end), so logs of batch
// jobs stay readable.
#include <chrono>
#include <cstddef>
#include <string>

namespace slmq {

class ProgressReporter {
 public:
  explicit ProgressReporter(std::string label, double log_every_seconds = 30.0);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // `done` of `total` units (e.g. "requests") so far.
  void update(size_t done, size_t total, const std::string& unit);
  // Ends the bar's line (terminal) or logs the final count.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string line(size_t done, size_t total, const std::string& unit) const;

  std::string label_;
  double log_every_;
  bool tty_;
  bool open_ = false;  // a bar line is on screen without its newline
  Clock::time_point start_, last_;
  size_t done_ = 0, total_ = 0;
  std::string unit_;
};

}  // namespace slmq

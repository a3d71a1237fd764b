#pragma once
// Progress of a long loop on stderr: a redrawn bar with rate and ETA when stderr is a terminal,
// otherwise one log line at most every `log_every_seconds` (and at the end), so logs of batch
// jobs stay readable. A heartbeat thread keeps the promise while one unit takes long (a big eval
// batch, one layer's GPTQ solve): the bar is redrawn every second and, off a terminal, a line is
// logged whenever `log_every_seconds` pass without one, even with no new unit finished.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace slmq {

// The default interval of lines off a terminal: $SLMQ_PROGRESS_SECONDS when set to a positive
// number (tests, or logs wanted more often), else 30 s.
double default_progress_interval();

class ProgressReporter {
 public:
  explicit ProgressReporter(std::string label,
                            double log_every_seconds = default_progress_interval());
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // `done` of `total` units (e.g. "requests") so far. Thread-safe.
  void update(size_t done, size_t total, const std::string& unit);
  // Ends the bar's line (terminal) or logs the final count; stops the heartbeat.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string line() const;          // mu_ held
  void draw(Clock::time_point now);  // mu_ held
  void heartbeat();

  std::string label_;
  double log_every_;
  bool tty_;
  bool open_ = false;  // a bar line is on screen without its newline
  bool stopped_ = false;
  Clock::time_point start_, last_;
  size_t done_ = 0, total_ = 0;
  std::string unit_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace slmq

#pragma once
// Hooks for the fault tests (tests/e2e/fault_test.cpp): inert unless their environment variable is
// set, and then only at the named points. They let a test kill -9 the process inside a chosen
// phase, or make writes fail as on a full disk, without timing luck or a real full filesystem.
//
//   SLMQ_FAULT_PAUSE=NAME       fault_point("NAME") prints "slmquant: paused at NAME" on stderr
//                               and sleeps until the process is killed.
//   SLMQ_FAULT_FULL_DISK=TEXT   writes to files whose path contains TEXT fail with ENOSPC.
#include <filesystem>

namespace slmq {

// Points: "load" (model files open, nothing computed), "quantize" (first layer quantized),
// "ppl" (first perplexity batch done), "eval" (first evaluation batch journaled), "result"
// (everything computed, the result file not yet written), "export" (checkpoint files written into
// the temporary folder, not yet renamed).
void fault_point(const char* name);

// True (with errno = ENOSPC) when SLMQ_FAULT_FULL_DISK names part of `path`.
bool injected_disk_full(const std::filesystem::path& path);

}  // namespace slmq

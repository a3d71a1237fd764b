#pragma once
// Runs the built slmquant binary as a user would and captures what it printed.
#include <string>

namespace slmq::test {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `args` is appended to the binary's path and run by /bin/sh.
CliResult run_cli(const std::string& args);

}  // namespace slmq::test

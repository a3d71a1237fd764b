// `slmquant version`: the build's identity, for bug reports.
#include <ATen/ATen.h>

#include <iostream>

#include "command.h"
#include "slmq/core/version.h"
#include "slmq/data/data_files.h"

namespace slmq::cli {
namespace {

const RegisterCommand kVersion{
    "version", "Print the slmquant commit and the torch it was built with", [](CLI::App&) {
      return [] {
        std::cout << "slmquant " << git_commit() << " (torch " << torch_build_version() << ")\n";
        // Where benchmark data is looked up from this working directory (data_files.h).
        std::cout << "data " << data::resolve_data_dir().string() << "\n";
        return 0;
      };
    }};

}  // namespace
}  // namespace slmq::cli

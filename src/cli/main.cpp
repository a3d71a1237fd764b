// The only place that catches: every error becomes one line on stderr and a non-zero exit code.
#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "command.h"
#include "slmq/core/error.h"
#include "slmq/core/escape.h"
#include "slmq/core/logging.h"

namespace slmq::cli {

std::vector<Command>& registered_commands() {
  static std::vector<Command> commands;
  return commands;
}

RegisterCommand::RegisterCommand(std::string name, std::string description, CommandSetup setup) {
  registered_commands().push_back({std::move(name), std::move(description), std::move(setup)});
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{"slmquant: quantize small language models and measure what that did"};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --log-level may follow the subcommand too
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  std::map<CLI::App*, std::function<int()>> actions;
  for (auto& command : registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    actions[sub] = command.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  init_logging(log_level);
  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  return 1;
}

}  // namespace
}  // namespace slmq::cli

int main(int argc, char** argv) {
  try {
    return slmq::cli::run(argc, argv);
  } catch (const slmq::Error& e) {
    std::cerr << "slmquant: " << e.category() << ": " << slmq::escape_message(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::filesystem::filesystem_error& e) {
    // The environment's fault (a file in the way, permissions, a full disk), not slmquant's.
    std::cerr << "slmquant: data error: " << slmq::escape_message(e.what()) << "\n";
    return slmq::DataError("").exit_code();
  } catch (const std::exception& e) {
    std::cerr << "slmquant: internal error: " << slmq::escape_message(e.what()) << "\n";
    return 70;
  }
}

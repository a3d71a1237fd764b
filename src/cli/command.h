#pragma once
// Subcommands register themselves here, one file each, so main.cpp never changes when one is added.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace slmq::cli {

// Declares a subcommand's options on `app` and returns the action to run once parsing succeeded.
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct Command {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<Command>& registered_commands();

// Usage, at namespace scope in a command's file:
//   const RegisterCommand kInfo{"info", "Describe a model", [](CLI::App& app) {...}};
struct RegisterCommand {
  RegisterCommand(std::string name, std::string description, CommandSetup setup);
};

}  // namespace slmq::cli

#pragma once
// Typed errors. Library code throws these with the offending key, file or tensor named in the
// message; only src/cli catches them, prints one line and exits non-zero.
#include <stdexcept>
#include <string>

namespace slmq {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // Short category printed before the message ("config error", "data error", ...).
  virtual const char* category() const noexcept = 0;
  // Process exit code for this category.
  virtual int exit_code() const noexcept = 0;
};

// A run configuration or command-line value is invalid (unknown key, wrong type, bad value).
class ConfigError : public Error {
 public:
  using Error::Error;
  const char* category() const noexcept override { return "config error"; }
  int exit_code() const noexcept override { return 2; }
};

// An input file is missing, truncated or malformed.
class DataError : public Error {
 public:
  using Error::Error;
  const char* category() const noexcept override { return "data error"; }
  int exit_code() const noexcept override { return 3; }
};

// A valid request that slmquant does not support (architecture, dtype, method for a model).
class UnsupportedError : public Error {
 public:
  using Error::Error;
  const char* category() const noexcept override { return "unsupported"; }
  int exit_code() const noexcept override { return 4; }
};

// A broken invariant inside slmquant: a bug, never the user's fault.
class InternalError : public Error {
 public:
  using Error::Error;
  const char* category() const noexcept override { return "internal error"; }
  int exit_code() const noexcept override { return 70; }
};

}  // namespace slmq

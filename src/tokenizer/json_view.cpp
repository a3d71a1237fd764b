#include "slmq/tokenizer/json_view.h"

#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {

std::string JsonView::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

JsonView JsonView::operator[](std::string_view key) const {
  if (!value_->is_object()) fail("expected an object");
  auto it = value_->find(key);
  if (it == value_->end()) {
    throw DataError(fmt::format("{}: {}: missing", source_, child_path(key)));
  }
  return JsonView(*it, source_, child_path(key));
}

std::optional<JsonView> JsonView::find(std::string_view key) const {
  if (!value_->is_object()) fail("expected an object");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonView(*it, source_, child_path(key));
}

JsonView JsonView::at(std::size_t index) const {
  if (!value_->is_array()) fail("expected an array");
  if (index >= value_->size()) fail(fmt::format("index {} out of range", index));
  return JsonView((*value_)[index], source_, fmt::format("{}[{}]", path_, index));
}

std::size_t JsonView::size() const {
  if (!value_->is_array() && !value_->is_object()) fail("expected an array or object");
  return value_->size();
}

std::string JsonView::as_string() const {
  if (!value_->is_string()) fail("expected a string");
  return value_->get<std::string>();
}

bool JsonView::as_bool() const {
  if (!value_->is_boolean()) fail("expected a boolean");
  return value_->get<bool>();
}

std::int64_t JsonView::as_int() const {
  if (!value_->is_number_integer()) fail("expected an integer");
  return value_->get<std::int64_t>();
}

char32_t JsonView::as_char() const {
  const std::string s = as_string();
  if (s.empty() || !is_valid_utf8(s)) fail("expected a single character");
  char32_t cp = 0;
  if (decode_utf8(s, 0, cp) != s.size()) fail("expected a single character");
  return cp;
}

std::string JsonView::string_or(std::string_view key, std::string fallback) const {
  auto v = find(key);
  return v ? v->as_string() : std::move(fallback);
}

bool JsonView::bool_or(std::string_view key, bool fallback) const {
  auto v = find(key);
  return v ? v->as_bool() : fallback;
}

void JsonView::fail(std::string_view what) const {
  throw DataError(fmt::format("{}: {}: {}", source_, path_.empty() ? "(root)" : path_, what));
}

void JsonView::unsupported(std::string_view what) const {
  throw UnsupportedError(
      fmt::format("{}: {}: {}", source_, path_.empty() ? "(root)" : path_, what));
}

}  // namespace slmq::tokenizer

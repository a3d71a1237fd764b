#include "slmq/sweep/select.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <numeric>

#include "slmq/core/error.h"

namespace slmq::sweep {

Part parse_part(const std::string& text, const std::string& what) {
  const size_t slash = text.find('/');
  Part part;
  auto parse = [&](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  const std::string_view all(text);
  if (slash == std::string::npos || !parse(all.substr(0, slash), part.index) ||
      !parse(all.substr(slash + 1), part.count) || part.count < 1 || part.index < 0 ||
      part.index >= part.count) {
    throw ConfigError(what + " '" + text + "': expected i/n with 0 <= i < n (e.g. 0/4)");
  }
  return part;
}

std::vector<Cell> select_part(const std::vector<Cell>& cells, Part part) {
  std::vector<size_t> order(cells.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return cells[a].hash != cells[b].hash ? cells[a].hash < cells[b].hash
                                          : cells[a].id < cells[b].id;
  });
  std::vector<char> keep(cells.size(), 0);
  for (size_t rank = 0; rank < order.size(); ++rank)
    keep[order[rank]] = static_cast<int>(rank % static_cast<size_t>(part.count)) == part.index;
  std::vector<Cell> out;
  for (size_t i = 0; i < cells.size(); ++i)
    if (keep[i]) out.push_back(cells[i]);
  return out;
}

std::vector<Cell> select_only(const std::vector<Cell>& cells,
                              const std::vector<std::string>& patterns) {
  if (patterns.empty()) return cells;
  auto matches = [&](const std::string& id) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
      if (p.find_first_of("*?[") == std::string::npos) return id.find(p) != std::string::npos;
      return ::fnmatch(p.c_str(), id.c_str(), 0) == 0;
    });
  };
  std::vector<Cell> out;
  std::copy_if(cells.begin(), cells.end(), std::back_inserter(out),
               [&](const Cell& c) { return matches(c.id); });
  return out;
}

}  // namespace slmq::sweep

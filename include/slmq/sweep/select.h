#pragma once
// Which cells of a grid one process runs: --only patterns, --shard i/n (Slurm array tasks,
// nodes) and the per-device worker split (--devices), all deterministic functions of the cells.
#include <string>
#include <vector>

#include "slmq/sweep/grid.h"

namespace slmq::sweep {

// Part `index` of `count` (0 <= index < count).
struct Part {
  int index = 0;
  int count = 1;
};

// "i/n" with 0 <= i < n; ConfigError naming `what` (e.g. "--shard") otherwise.
Part parse_part(const std::string& text, const std::string& what);

// The cells of part `part`: ranked by config hash, the cell of rank r belongs to part r mod n.
// Parts are disjoint, their union is `cells`, their sizes differ by at most one, and membership
// depends only on the hashes (the same on every machine). Grid order is kept within a part.
std::vector<Cell> select_part(const std::vector<Cell>& cells, Part part);

// The cells whose id matches any pattern (all cells for no patterns). A pattern with * or ?
// is a glob over the whole id (fnmatch; * also crosses '/'); any other is a substring.
std::vector<Cell> select_only(const std::vector<Cell>& cells,
                              const std::vector<std::string>& patterns);

}  // namespace slmq::sweep

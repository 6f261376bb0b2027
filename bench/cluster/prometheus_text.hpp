#pragma once
/// Reading the nodes' /metrics (Prometheus text format) back into numbers.

#include <string>
#include <string_view>

namespace raft::bench {

/// The sum of every sample of metric `name` (all label sets), 0 if absent.
/// `name` must match the sample's name exactly: `raft_term` does not match
/// `raft_term_total`.
double metric_sum(std::string_view text, std::string_view name);

/// The sample of `name` whose label set contains `label` (e.g. `type="vote"`).
double metric_with_label(std::string_view text, std::string_view name, std::string_view label);

}  // namespace raft::bench

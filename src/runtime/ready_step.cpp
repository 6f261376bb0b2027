// ReadyStep: persist, send, apply, in that order (see ready_step.hpp).
#include "runtime/ready_step.hpp"

#include <exception>
#include <optional>
#include <utility>

#include "raft/assert.hpp"

namespace raft::runtime {

bool ReadyStep::needs_sync(const Ready& ready, const HardState& durable) {
  if (ready.snapshot || !ready.entries.empty()) return true;
  return ready.hard_state && (ready.hard_state->term != durable.term ||
                              ready.hard_state->voted_for != durable.voted_for);
}

ReadyOutcome ReadyStep::run(Node& node, ReadyHost& host) {
  RAFT_ASSERT(node.has_ready(), "ReadyStep::run needs a node with a Ready");
  Ready ready = node.ready();
  ReadyOutcome outcome;
  // What this Ready makes durable, for Node::persisted() after the sync.
  std::optional<Index> durable_to;
  if (ready.snapshot) durable_to = ready.snapshot->meta.last_index;
  if (!ready.entries.empty()) durable_to = ready.entries.back().index;
  // A leader's appends leave while its own disk writes them (thesis
  // §10.2.1); everything else waits for the sync.
  const bool send_first = ready.send_before_sync;
  if (send_first) {
    send(ready.messages, host, outcome);
    host.sent_before_sync();
  }
  if (!persist(ready, host, outcome, send_first)) return outcome;
  if (durable_to) {
    node.persisted(*durable_to);
    host.on_durable(*durable_to);
  }
  if (!send_first) send(ready.messages, host, outcome);
  outcome.completed = apply(ready, host);
  return outcome;
}

bool ReadyStep::run_all(Node& node, ReadyHost& host) {
  while (node.has_ready()) {
    if (!run(node, host).completed) return false;
  }
  return true;
}

bool ReadyStep::persist(Ready& ready, ReadyHost& host, ReadyOutcome& outcome, bool messages_sent) {
  const bool sync_needed = needs_sync(ready, durable_);
  try {
    Storage& store = host.store();
    if (ready.hard_state) store.save_hard_state(*ready.hard_state);
    // The snapshot goes first: it may drop the log the entries then extend.
    if (ready.snapshot) store.install_snapshot(*ready.snapshot);
    if (!ready.entries.empty()) {
      host.on_entries(ready.entries);
      store.append(std::move(ready.entries));
    }
    if (!host.before_sync(messages_sent)) return false;
    if (sync_needed) {
      host.sync();
      outcome.synced = true;
    }
  } catch (const std::exception& e) {
    host.on_storage_failure(e.what());
    return false;
  }
  if (ready.hard_state && sync_needed) durable_ = *ready.hard_state;
  return true;
}

void ReadyStep::send(std::vector<Message>& messages, ReadyHost& host, ReadyOutcome& outcome) const {
  for (Message& m : messages) {
    if (!links_.allows_to(m.to)) {
      host.on_filtered(m);
      ++outcome.dropped;
    } else if (host.send(std::move(m))) {
      ++outcome.sent;
    } else {
      ++outcome.dropped;
    }
  }
}

bool ReadyStep::apply(Ready& ready, ReadyHost& host) {
  if (ready.snapshot && !host.restore(*ready.snapshot)) return false;
  for (Entry& e : ready.committed) host.apply(std::move(e));
  for (const ReadState& r : ready.reads) host.on_read_state(r);
  host.serve_reads();
  for (const Event& e : ready.events) host.on_event(e);
  return true;
}

}  // namespace raft::runtime

/// MpiTransport benchmark, run under MPI with 2 (or more) ranks:
///
///   bash tests/transport/run_mpi.sh mpiexec -n 2 build/bench/transport/raft_transport_bench
///        --json transport_bench.json     (one line; or: cmake --build build --target
///        run_transport_bench)
///
/// Ranks 0 and 1 measure, in one run:
///   1. raw MPI ping-pong (MPI_Send/MPI_Recv, blocking) of an 8-byte message,
///      and of messages as large as the encoded Raft messages below;
///   2. the round trip of an AppendEntries (1 entry of 100 bytes) answered by
///      an AppendResponse through MpiTransport, both sides polling eagerly
///      (encode, MPI_Isend, MPI_Improbe/MPI_Imrecv, decode, per direction);
///   3. a stream of AppendEntries of 64 entries (100 bytes each) from rank 0
///      to rank 1: messages per second, retrying after a full queue.
/// Further ranks only join the collective calls. Rank 0 prints a summary and
/// writes JSON to --json.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <mpi.h>

#include "codec/codec.hpp"
#include "raft/message.hpp"
#include "transport/mpi_transport.hpp"

namespace {

using raft::Entry;
using raft::EntryType;
using raft::Message;
using raft::MessageType;
using raft::transport::MpiTransport;
using Clock = std::chrono::steady_clock;

constexpr int kRawTag = 100;

struct Options {
  std::string json_path;
  int iterations = 20'000;
  int warmup = 2'000;
  int stream_messages = 50'000;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--json") {
      options.json_path = value();
    } else if (arg == "--iterations") {
      options.iterations = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--warmup") {
      options.warmup = std::max(0, std::atoi(value().c_str()));
    } else if (arg == "--stream-messages") {
      options.stream_messages = std::max(1, std::atoi(value().c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--json PATH] [--iterations N] [--warmup N] [--stream-messages N]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  return options;
}

struct Summary {
  double median_us = 0;
  double p99_us = 0;
  double mean_us = 0;
  double min_us = 0;
};

Summary summarize(std::vector<double> samples_us) {
  Summary s;
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  const std::size_t n = samples_us.size();
  s.median_us = samples_us[n / 2];
  s.p99_us = samples_us[static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n))) - 1];
  s.min_us = samples_us.front();
  double sum = 0;
  for (double v : samples_us) sum += v;
  s.mean_us = sum / static_cast<double>(n);
  return s;
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// Blocking ping-pong of `request_bytes` out and `response_bytes` back.
std::vector<double> raw_pingpong(int rank, int total, std::size_t request_bytes,
                                 std::size_t response_bytes) {
  std::vector<char> request(request_bytes, 'q'), response(response_bytes, 'r');
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) {
    if (rank == 0) {
      const auto start = Clock::now();
      MPI_Send(request.data(), static_cast<int>(request.size()), MPI_BYTE, 1, kRawTag,
               MPI_COMM_WORLD);
      MPI_Recv(response.data(), static_cast<int>(response.size()), MPI_BYTE, 1, kRawTag,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      samples.push_back(micros(Clock::now() - start));
    } else if (rank == 1) {
      MPI_Recv(request.data(), static_cast<int>(request.size()), MPI_BYTE, 0, kRawTag,
               MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(response.data(), static_cast<int>(response.size()), MPI_BYTE, 0, kRawTag,
               MPI_COMM_WORLD);
    }
  }
  return samples;
}

Message append_entries(std::uint64_t seq, std::size_t entries, std::size_t entry_bytes) {
  Message m;
  m.type = MessageType::AppendEntries;
  m.from = 0;
  m.to = 1;
  m.term = 3;
  m.prev_log_index = seq * entries;
  m.prev_log_term = 3;
  m.commit = seq * entries;
  for (std::size_t k = 0; k < entries; ++k) {
    m.entries.push_back(Entry{3, m.prev_log_index + 1 + k, EntryType::Command,
                              std::string(entry_bytes, static_cast<char>('a' + k % 26))});
  }
  return m;
}

Message append_response(std::uint64_t match_index) {
  Message m;
  m.type = MessageType::AppendResponse;
  m.from = 1;
  m.to = 0;
  m.term = 3;
  m.success = true;
  m.match_index = match_index;
  return m;
}

std::size_t encoded_bytes(const Message& m) {
  return std::get<std::size_t>(raft::codec::encoded_size(m));
}

/// Polls eagerly (no sleep) until a message arrives; aborts after 30 s.
Message wait_for_message(MpiTransport& transport, std::vector<Message>& inbox) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (inbox.empty()) {
    transport.poll(inbox, 16);
    if (inbox.empty() && Clock::now() > deadline) {
      std::fprintf(stderr, "rank %d: no message within 30 s\n", transport.rank());
      MPI_Abort(MPI_COMM_WORLD, 4);
    }
  }
  Message m = std::move(inbox.front());
  inbox.erase(inbox.begin());
  return m;
}

std::vector<double> transport_roundtrip(MpiTransport& transport, int total) {
  const int rank = transport.rank();
  std::vector<Message> inbox;
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(total));
  Message request = append_entries(1, 1, 100);
  Message response = append_response(0);
  for (int i = 0; i < total; ++i) {
    if (rank == 0) {
      request.commit = static_cast<std::uint64_t>(i);  // a real leader's message changes too
      const auto start = Clock::now();
      if (!transport.send(request)) MPI_Abort(MPI_COMM_WORLD, 5);
      const Message answer = wait_for_message(transport, inbox);
      samples.push_back(micros(Clock::now() - start));
      if (answer.type != MessageType::AppendResponse) MPI_Abort(MPI_COMM_WORLD, 6);
    } else if (rank == 1) {
      const Message got = wait_for_message(transport, inbox);
      response.match_index = got.prev_log_index + got.entries.size();
      if (!transport.send(response)) MPI_Abort(MPI_COMM_WORLD, 5);
    }
  }
  return samples;
}

/// The same stream in raw MPI: up to `window` MPI_Isends in flight (the
/// transport's default queue), blocking MPI_Recv on the other side, no codec.
double raw_stream(int rank, int messages, std::size_t bytes, int window) {
  std::vector<char> buffer(bytes, 's');
  double seconds = 0;
  if (rank == 0) {
    std::vector<MPI_Request> requests(static_cast<std::size_t>(window), MPI_REQUEST_NULL);
    const auto start = Clock::now();
    for (int i = 0; i < messages; ++i) {
      int slot = i;
      if (i >= window) MPI_Waitany(window, requests.data(), &slot, MPI_STATUS_IGNORE);
      MPI_Isend(buffer.data(), static_cast<int>(bytes), MPI_BYTE, 1, kRawTag, MPI_COMM_WORLD,
                &requests[static_cast<std::size_t>(slot)]);
    }
    MPI_Waitall(window, requests.data(), MPI_STATUSES_IGNORE);
    char ack = 0;
    MPI_Recv(&ack, 1, MPI_BYTE, 1, kRawTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } else if (rank == 1) {
    std::vector<char> into(bytes);
    for (int i = 0; i < messages; ++i) {
      MPI_Recv(into.data(), static_cast<int>(bytes), MPI_BYTE, 0, kRawTag, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    }
    char ack = 1;
    MPI_Send(&ack, 1, MPI_BYTE, 0, kRawTag, MPI_COMM_WORLD);
  }
  return seconds;
}

struct StreamResult {
  double seconds = 0;
  std::uint64_t queue_full_retries = 0;
};

StreamResult stream(MpiTransport& transport, int messages, std::size_t entries,
                    std::size_t entry_bytes) {
  StreamResult result;
  std::vector<Message> inbox;
  const int rank = transport.rank();
  if (rank == 0) {
    // Built once: the stream measures the transport, not message construction.
    Message m = append_entries(0, entries, entry_bytes);
    const auto start = Clock::now();
    for (int sent = 0; sent < messages;) {
      m.commit = static_cast<std::uint64_t>(sent);
      if (transport.send(m)) {
        ++sent;
      } else {
        ++result.queue_full_retries;
      }
      transport.poll(inbox, 64);
    }
    const Message done = wait_for_message(transport, inbox);  // rank 1 has them all
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (done.type != MessageType::AppendResponse) MPI_Abort(MPI_COMM_WORLD, 6);
  } else if (rank == 1) {
    std::uint64_t received = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (received < static_cast<std::uint64_t>(messages)) {
      inbox.clear();
      received += transport.poll(inbox, 256);
      if (Clock::now() > deadline) MPI_Abort(MPI_COMM_WORLD, 7);
    }
    transport.send(append_response(received));
    while (transport.has_pending_sends()) transport.poll(inbox, 16);
  }
  return result;
}

std::string json_summary(const Summary& s) {
  char text[256];
  std::snprintf(text, sizeof text,
                "{\"median_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f, \"min_us\": %.3f}",
                s.median_us, s.p99_us, s.mean_us, s.min_us);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  raft::transport::MpiSession session(&argc, &argv);
  const Options options = parse(argc, argv);
  const int rank = session.rank();
  if (session.size() < 2) {
    std::fprintf(stderr, "run with at least 2 ranks (mpirun -n 2)\n");
    return 2;
  }
  const int total = options.warmup + options.iterations;
  auto measured = [&](std::vector<double> samples) {
    if (samples.size() > static_cast<std::size_t>(options.warmup)) {
      samples.erase(samples.begin(), samples.begin() + options.warmup);
    }
    return summarize(std::move(samples));
  };

  const Message request = append_entries(1, 1, 100);
  const std::size_t request_bytes = encoded_bytes(request);
  const std::size_t response_bytes = encoded_bytes(append_response(2));

  MPI_Barrier(MPI_COMM_WORLD);
  const Summary raw_small = measured(raw_pingpong(rank, total, 8, 8));
  MPI_Barrier(MPI_COMM_WORLD);
  const Summary raw_sized = measured(raw_pingpong(rank, total, request_bytes, response_bytes));

  MpiTransport transport;  // collective
  MPI_Barrier(MPI_COMM_WORLD);
  const Summary via_transport = measured(transport_roundtrip(transport, total));
  MPI_Barrier(MPI_COMM_WORLD);

  constexpr std::size_t kStreamEntries = 64;
  constexpr std::size_t kEntryBytes = 100;
  const std::size_t stream_message_bytes =
      encoded_bytes(append_entries(0, kStreamEntries, kEntryBytes));
  const StreamResult streamed =
      stream(transport, options.stream_messages, kStreamEntries, kEntryBytes);
  MPI_Barrier(MPI_COMM_WORLD);
  const double raw_stream_seconds =
      raw_stream(rank, options.stream_messages, stream_message_bytes,
                 static_cast<int>(transport.options().max_pending_sends_per_peer));
  MPI_Barrier(MPI_COMM_WORLD);
  const auto stats = transport.stats();
  transport.shutdown();

  if (rank != 0) return 0;

  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int library_length = 0;
  MPI_Get_library_version(library, &library_length);
  std::string mpi_version(library, static_cast<std::size_t>(library_length));
  mpi_version = mpi_version.substr(0, mpi_version.find_first_of(",\n"));

  const double messages_per_s = static_cast<double>(options.stream_messages) / streamed.seconds;
  const double mib_per_s =
      messages_per_s * static_cast<double>(stream_message_bytes) / (1024.0 * 1024.0);
  const double raw_messages_per_s =
      static_cast<double>(options.stream_messages) / raw_stream_seconds;
  const double ratio_median = via_transport.median_us / raw_sized.median_us;
  const double ratio_p99 = via_transport.p99_us / raw_sized.p99_us;
  const double ratio_median_small = via_transport.median_us / raw_small.median_us;

  std::printf("MpiTransport benchmark: %s, %d ranks, %d round trips (after %d warm-up)\n",
              mpi_version.c_str(), session.size(), options.iterations, options.warmup);
  std::printf("  raw MPI ping-pong, 8 B:                   median %7.2f us  p99 %7.2f us\n",
              raw_small.median_us, raw_small.p99_us);
  std::printf("  raw MPI ping-pong, %3zu B / %2zu B:          median %7.2f us  p99 %7.2f us\n",
              request_bytes, response_bytes, raw_sized.median_us, raw_sized.p99_us);
  std::printf("  MpiTransport AppendEntries+AppendResponse: median %7.2f us  p99 %7.2f us\n",
              via_transport.median_us, via_transport.p99_us);
  std::printf("  ratio transport / raw (same bytes):        median %5.2fx      p99 %5.2fx\n",
              ratio_median, ratio_p99);
  std::printf(
      "  stream of AppendEntries x %zu entries (%zu B each): %.0f messages/s "
      "(%.0f entries/s, %.1f MiB/s, %llu retries after a full queue)\n",
      kStreamEntries, stream_message_bytes, messages_per_s,
      messages_per_s * static_cast<double>(kStreamEntries), mib_per_s,
      static_cast<unsigned long long>(streamed.queue_full_retries));
  std::printf(
      "  same stream in raw MPI (Isend window %zu, no codec):  %.0f messages/s "
      "(transport reaches %.0f%%)\n",
      transport.options().max_pending_sends_per_peer, raw_messages_per_s,
      100.0 * messages_per_s / raw_messages_per_s);

  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << "{\n"
        << "  \"mpi_library\": \"" << mpi_version << "\",\n"
        << "  \"ranks\": " << session.size() << ",\n"
        << "  \"iterations\": " << options.iterations << ",\n"
        << "  \"warmup\": " << options.warmup << ",\n"
        << "  \"raw_pingpong_8B\": " << json_summary(raw_small) << ",\n"
        << "  \"raw_pingpong_same_bytes\": {\"request_bytes\": " << request_bytes
        << ", \"response_bytes\": " << response_bytes
        << ", \"latency\": " << json_summary(raw_sized) << "},\n"
        << "  \"transport_append_roundtrip\": {\"entries\": 1, \"entry_bytes\": 100, "
        << "\"request_bytes\": " << request_bytes << ", \"response_bytes\": " << response_bytes
        << ", \"latency\": " << json_summary(via_transport) << "},\n"
        << "  \"ratio_transport_to_raw_same_bytes\": {\"median\": " << ratio_median
        << ", \"p99\": " << ratio_p99 << "},\n"
        << "  \"ratio_transport_to_raw_8B_median\": " << ratio_median_small << ",\n"
        << "  \"stream_append_entries\": {\"messages\": " << options.stream_messages
        << ", \"entries_per_message\": " << kStreamEntries << ", \"entry_bytes\": " << kEntryBytes
        << ", \"message_bytes\": " << stream_message_bytes << ", \"seconds\": " << streamed.seconds
        << ", \"messages_per_s\": " << messages_per_s
        << ", \"entries_per_s\": " << messages_per_s * static_cast<double>(kStreamEntries)
        << ", \"mib_per_s\": " << mib_per_s
        << ", \"queue_full_retries\": " << streamed.queue_full_retries
        << ", \"raw_mpi_messages_per_s\": " << raw_messages_per_s << "},\n"
        << "  \"sender_stats\": {\"bytes_sent\": " << stats.bytes_sent
        << ", \"dropped_queue_full\": " << stats.dropped_queue_full << "}\n"
        << "}\n";
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", options.json_path.c_str());
      return 1;
    }
    std::printf("  JSON written to %s\n", options.json_path.c_str());
  }
  return 0;
}

// COPY OUT streaming against a real PostgreSQL: a million rows in text and binary format, with
// bounded memory, cancellation and early abandonment. Every test runs twice: with the rows read
// off the socket (the default on a connection without TLS) and through libpq.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pg/connection.h"
#include "support/pg_cluster.h"

namespace strata::pg {
namespace {

using strata::testing::shared_pg_cluster;

constexpr int kRows = 1000000;

// Resident memory may grow by at most this much while a stream is read. AddressSanitizer keeps
// freed chunks in its quarantine, so RSS says nothing about our buffering there.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kMaxGrowthKib = 1L << 30;
#else
constexpr long kMaxGrowthKib = 4096;
#endif

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

Connection connect_or_die(bool wire = true, std::function<void(std::string_view)> on_notice = {}) {
  ConnectOptions options;
  options.wire_copy_out = wire;
  options.on_notice = std::move(on_notice);
  auto conn = Connection::connect(shared_pg_cluster().conninfo(), options);
  if (!conn.ok()) throw std::runtime_error(conn.error().to_string());
  return std::move(conn).value();
}

struct StreamStats {
  int64_t bytes = 0;
  int64_t chunks = 0;
  size_t largest_chunk = 0;
  long peak_growth_kib = 0;
  double seconds = 0;
};

// Reads the whole stream, sampling memory as it goes. Fails the test on an error.
StreamStats drain(CopyOutStream& stream) {
  StreamStats stats;
  const long base = resident_kib();
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    auto chunk = stream.next();
    if (!chunk.ok()) {
      ADD_FAILURE() << chunk.error().to_string();
      break;
    }
    if (!chunk->has_value()) break;
    stats.bytes += static_cast<int64_t>((*chunk)->size());
    stats.largest_chunk = std::max(stats.largest_chunk, (*chunk)->size());
    if (++stats.chunks % 50000 == 0) stats.peak_growth_kib = std::max(stats.peak_growth_kib, resident_kib() - base);
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

// The parameter: whether copy_out() reads the rows off the wire.
class PgCopyOutTest : public ::testing::TestWithParam<bool> {};

TEST_P(PgCopyOutTest, MillionRowsInTextFormat) {
  Connection conn = connect_or_die(GetParam());
  auto stream = conn.copy_out("copy (select generate_series(1, " + std::to_string(kRows) + ")) to stdout");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  EXPECT_EQ(stream->on_wire(), GetParam());  // the test cluster has no TLS: the wire path is taken
  StreamStats stats = drain(*stream);
  int64_t expected = 0;
  for (int i = 1; i <= kRows; ++i) expected += static_cast<int64_t>(std::to_string(i).size()) + 1;
  std::printf("[ figures  ] COPY text: %lld rows, %lld bytes, %lld chunks in %.3f s (%.1f MB/s), RSS growth %ld KiB\n",
              static_cast<long long>(stream->rows()), static_cast<long long>(stats.bytes),
              static_cast<long long>(stats.chunks), stats.seconds, stats.bytes / 1e6 / stats.seconds,
              stats.peak_growth_kib);
  EXPECT_TRUE(stream->done());
  EXPECT_EQ(stream->rows(), kRows);
  EXPECT_EQ(stats.chunks, kRows);
  EXPECT_EQ(stats.bytes, expected);
  EXPECT_LE(stats.largest_chunk, 8u);
  // Bounded memory: far less than the ~6.9 MB streamed.
  EXPECT_LT(stats.peak_growth_kib, kMaxGrowthKib);
}

TEST_P(PgCopyOutTest, MillionRowsInBinaryFormat) {
  Connection conn = connect_or_die(GetParam());
  auto stream = conn.copy_out("copy (select generate_series(1, " + std::to_string(kRows) +
                              ")::int4, 'x'::text) to stdout (format binary)");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  StreamStats stats = drain(*stream);
  // 19-byte header, per row: int16 field count + (int32 length + 4 bytes) + (int32 length + 1 byte),
  // then the int16 -1 trailer.
  const int64_t expected = 19 + static_cast<int64_t>(kRows) * (2 + 8 + 5) + 2;
  std::printf("[ figures  ] COPY binary: %lld rows, %lld bytes, %lld chunks in %.3f s (%.1f MB/s), RSS growth %ld KiB\n",
              static_cast<long long>(stream->rows()), static_cast<long long>(stats.bytes),
              static_cast<long long>(stats.chunks), stats.seconds, stats.bytes / 1e6 / stats.seconds,
              stats.peak_growth_kib);
  EXPECT_EQ(stream->rows(), kRows);
  EXPECT_EQ(stats.bytes, expected);
  EXPECT_LE(stats.largest_chunk, 19u + 15u);
  EXPECT_LT(stats.peak_growth_kib, kMaxGrowthKib);  // 15 MB streamed
  // After the end, next() keeps returning nullopt, and the connection is free again.
  auto after = stream->next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
  auto again = conn.exec("select 1");
  EXPECT_TRUE(again.ok());
}

TEST_P(PgCopyOutTest, ServerErrorsAreReportedAtTheStartOrTheEnd) {
  Connection conn = connect_or_die(GetParam());
  auto missing = conn.copy_out("copy no_such_table to stdout");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().state(), "42P01");

  // Division by zero after some rows: the error comes with the final status.
  auto failing = conn.copy_out("copy (select 100 / (1000 - i) from generate_series(1, 2000) i) to stdout");
  ASSERT_TRUE(failing.ok()) << failing.error().to_string();
  int chunks = 0;
  std::optional<Error> error;
  while (true) {
    auto chunk = failing->next();
    if (!chunk.ok()) {
      error = chunk.error();
      break;
    }
    if (!chunk->has_value()) break;
    ++chunks;
  }
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->state(), "22012");
  EXPECT_EQ(chunks, 999);

  auto not_copy = conn.copy_out("select 1");
  ASSERT_FALSE(not_copy.ok());
  EXPECT_EQ(not_copy.error().code(), ErrorCode::kInternal);
  auto ok = conn.exec("select 1");
  EXPECT_TRUE(ok.ok());
}

TEST_P(PgCopyOutTest, CancelFromAnotherThreadStopsTheStream) {
  Connection conn = connect_or_die(GetParam());
  // A stream that would run for hours (an SRF in the select list streams; in FROM it would materialize).
  auto stream =
      conn.copy_out("copy (select i, pg_sleep(0.001) from (select generate_series(1, 10000000) i) s) to stdout");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  Canceller canceller = conn.canceller();
  const auto start = std::chrono::steady_clock::now();
  std::thread watchdog([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(canceller.cancel().ok());
  });
  std::optional<Error> error;
  int64_t chunks = 0;
  while (true) {
    auto chunk = stream->next();
    if (!chunk.ok()) {
      error = chunk.error();
      break;
    }
    if (!chunk->has_value()) break;
    ++chunks;
  }
  watchdog.join();
  std::printf("[ figures  ] COPY cancelled after %lld chunks, %.3f s\n", static_cast<long long>(chunks),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kCancelled);
  EXPECT_EQ(error->state(), "57014");
  EXPECT_GT(chunks, 0);
  auto ok = conn.exec("select 2");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->value(0, 0), "2");
}

TEST_P(PgCopyOutTest, AbandonedStreamLeavesTheConnectionUsable) {
  Connection conn = connect_or_die(GetParam());
  const auto start = std::chrono::steady_clock::now();
  {
    auto stream = conn.copy_out("copy (select generate_series(1, 100000000)) to stdout");
    ASSERT_TRUE(stream.ok());
    for (int i = 0; i < 10; ++i) {
      auto chunk = stream->next();
      ASSERT_TRUE(chunk.ok() && chunk->has_value());
    }
    // Moving the stream keeps one owner.
    CopyOutStream moved = std::move(*stream);
    auto chunk = moved.next();
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    EXPECT_EQ(**chunk, "11\n");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ figures  ] abandoning a 100M-row COPY took %.3f s\n", seconds);
  auto ok = conn.exec("select 3");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->value(0, 0), "3");
}

TEST_P(PgCopyOutTest, ARowLargerThanTheReceiveBufferArrivesWhole) {
  Connection conn = connect_or_die(GetParam());
  auto stream = conn.copy_out("copy (select i, repeat('x', 3000000) from generate_series(1, 3) i) to stdout");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  for (int i = 1; i <= 3; ++i) {
    auto chunk = stream->next();
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    ASSERT_EQ((*chunk)->size(), 2u + 3000000u + 1u);
    EXPECT_EQ((*chunk)->substr(0, 3), std::to_string(i) + "\tx");
    EXPECT_EQ((*chunk)->back(), '\n');
  }
  auto end = stream->next();
  ASSERT_TRUE(end.ok()) << end.error().to_string();
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ(stream->rows(), 3);
}

TEST_P(PgCopyOutTest, NoticesRaisedDuringTheCopyReachTheHandler) {
  std::vector<std::string> notices;
  Connection conn = connect_or_die(GetParam(), [&](std::string_view text) { notices.emplace_back(text); });
  ASSERT_TRUE(conn.execute("create function pg_temp.noisy(i int) returns int language plpgsql as "
                           "$$ begin raise notice 'row %', i; return i; end $$")
                  .ok());
  auto stream = conn.copy_out("copy (select pg_temp.noisy(i) from generate_series(1, 3) i) to stdout");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  std::vector<std::string> rows;
  while (true) {
    auto chunk = stream->next();
    ASSERT_TRUE(chunk.ok()) << chunk.error().to_string();
    if (!chunk->has_value()) break;
    rows.emplace_back(**chunk);
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"1\n", "2\n", "3\n"}));
  EXPECT_EQ(notices, (std::vector<std::string>{"NOTICE:  row 1", "NOTICE:  row 2", "NOTICE:  row 3"}));
}

TEST_P(PgCopyOutTest, CopyFromStdinIsRefusedAndTheConnectionStaysUsable) {
  Connection conn = connect_or_die(GetParam());
  ASSERT_TRUE(conn.execute("create temp table sink (i int)").ok());
  auto stream = conn.copy_out("copy sink from stdin");
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code(), ErrorCode::kInternal);
  EXPECT_NE(stream.error().message().find("COPY … TO STDOUT"), std::string::npos) << stream.error().message();
  auto count = conn.exec("select count(*) from sink");
  ASSERT_TRUE(count.ok()) << count.error().to_string();
  EXPECT_EQ(count->value(0, 0), "0");
}

// Reads a stream to its end: the rows, and the error it ended with (if any).
std::pair<std::vector<std::string>, std::optional<Error>> read_all(CopyOutStream& stream) {
  std::vector<std::string> rows;
  while (true) {
    auto chunk = stream.next();
    if (!chunk.ok()) return {rows, chunk.error()};
    if (!chunk->has_value()) return {rows, std::nullopt};
    rows.emplace_back(**chunk);
  }
}

TEST_P(PgCopyOutTest, StatementsAfterTheCopyAreRefusedNotMixedIn) {
  Connection conn = connect_or_die(GetParam());
  auto two = conn.copy_out("copy (select 1) to stdout; copy (select 'other', 2) to stdout");
  ASSERT_TRUE(two.ok()) << two.error().to_string();
  auto [rows, error] = read_all(*two);
  EXPECT_EQ(rows, (std::vector<std::string>{"1\n"}));  // the second COPY's row is not handed out
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kInternal);
  EXPECT_NE(error->message().find("one `COPY"), std::string::npos) << error->message();

  // A later statement's own error is the one reported.
  auto failing = conn.copy_out("copy (select 1) to stdout; select 1 / 0");
  ASSERT_TRUE(failing.ok()) << failing.error().to_string();
  auto [rows2, error2] = read_all(*failing);
  EXPECT_EQ(rows2.size(), 1u);
  ASSERT_TRUE(error2.has_value());
  EXPECT_EQ(error2->state(), "22012");
  auto ok = conn.exec("select 5");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->value(0, 0), "5");
}

TEST_P(PgCopyOutTest, ATerminatedBackendIsALostConnection) {
  Connection conn = connect_or_die(GetParam());
  Connection admin = connect_or_die();
  auto pid = conn.exec("select pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto stream =
      conn.copy_out("copy (select i, pg_sleep(0.0005) from (select generate_series(1, 100000000) i) s) to stdout");
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(stream->next().ok());
  ASSERT_TRUE(admin.exec("select pg_terminate_backend(" + std::string(pid->value(0, 0)) + ")").ok());
  std::optional<Error> error;
  for (int i = 0; i < 10000000 && !error; ++i) {
    auto chunk = stream->next();
    if (!chunk.ok()) error = chunk.error();
    else if (!chunk->has_value()) break;
  }
  ASSERT_TRUE(error.has_value()) << "the stream ended without an error";
  EXPECT_EQ(error->code(), ErrorCode::kConnection) << error->to_string();
  EXPECT_NE(error->message().find("lost the connection to PostgreSQL"), std::string::npos) << error->message();
  EXPECT_FALSE(conn.ok());
  auto after = conn.exec("select 1");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), ErrorCode::kConnection);
}

INSTANTIATE_TEST_SUITE_P(ReadPaths, PgCopyOutTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Wire" : "Libpq"; });

}  // namespace
}  // namespace strata::pg

// ingest_sync_driver CONN --project-dir D: the `strata sync` code path (load the connection file,
// open the destination, ingest::run_sync, print the report) without linking every other module,
// so the benchmark can be built quickly. Exit codes as `strata sync`. After the report it prints
// "phases: open and sync A s, close C s" (A: DuckDB opens while the source is discovered, then the
// streams run; C: DuckDB's checkpoint at close), which the benchmark shows next to the stream's
// own stage/merge split. --staging-memory MIB replaces SyncOptions::staging_memory (0: no limit),
// to compare. With --query it times one query on a DuckDB file instead.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "common/time.h"
#include "ingest/connection_config.h"
#include "ingest/destination.h"
#include "ingest/sync.h"
#include "warehouse/warehouse.h"

// --query FILE SQL: runs SQL on the DuckDB file and prints "query: S s, rows: N" (reading bronze
// through its merge-on-read view versus as one table).
int run_query(const char* path, const char* sql) {
  using namespace strata;
  auto db = warehouse::open_duckdb(path);
  if (!db.ok()) {
    std::cerr << db.error().to_string() << "\n";
    return 1;
  }
  auto wh = (*db)->connect();
  if (!wh.ok()) return 1;
  const int64_t start = monotonic_micros();
  auto result = (*wh)->query(sql);
  const int64_t end = monotonic_micros();
  if (!result.ok()) {
    std::cerr << result.error().to_string() << "\n";
    return 1;
  }
  std::printf("query: %.3f s, rows: %zu\n", static_cast<double>(end - start) / 1e6, result->num_rows());
  return 0;
}

int main(int argc, char** argv) {
  using namespace strata;
  if (argc == 4 && std::string(argv[1]) == "--query") return run_query(argv[2], argv[3]);
  const bool memory_flag = argc == 6 && std::string(argv[4]) == "--staging-memory";
  char* end = nullptr;
  const uint64_t memory_mib = memory_flag ? std::strtoull(argv[5], &end, 10) : 0;
  if ((argc != 4 && !(memory_flag && end && *end == '\0')) || std::string(argv[2]) != "--project-dir") {
    std::cerr << "usage: ingest_sync_driver CONN --project-dir DIR [--staging-memory MIB] | --query DUCKDB_FILE SQL\n";
    return 2;
  }
  SecretMasker masker;
  YamlOptions yaml;
  yaml.masker = &masker;
  auto config = ingest::load_connection_config(ingest::connection_path(argv[3], argv[1]), yaml);
  if (!config.ok()) {
    std::cerr << config.error().to_string() << "\n";
    return config.error().exit_code();
  }
  ingest::SyncOptions options;
  options.masker = &masker;
  options.staging_threads = 1;  // as strata sync: the process owns the database
  options.staging_memory = memory_flag ? memory_mib << 20 : ingest::kStagingMemory;
  std::unique_ptr<warehouse::Database> db;
  auto destination = ingest::resolve_destination(*config, process_env(), &masker);
  if (!destination.ok()) {
    std::cerr << destination.error().to_string() << "\n";
    return destination.error().exit_code();
  }
  const ingest::DatabaseOpener open = [&] { return ingest::open_destination(*destination); };
  const bool creates = destination->creates_file();
  const int64_t syncing = monotonic_micros();
  auto report = ingest::run_sync(*config, open, options, db, creates);
  const int64_t closing = monotonic_micros();
  db.reset();  // the checkpoint DuckDB runs at close belongs to the sync's cost
  const int64_t closed = monotonic_micros();
  if (!report.ok()) {
    std::cerr << masker.mask(report.error().to_string()) << "\n";
    return report.error().exit_code();
  }
  std::cout << ingest::report_to_text(*report) << std::flush;
  std::printf("phases: open and sync %.3f s, close %.3f s\n", static_cast<double>(closing - syncing) / 1e6,
              static_cast<double>(closed - closing) / 1e6);
  return report->ok() ? 0 : 1;
}

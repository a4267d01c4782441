// ingest_sync_driver CONN --project-dir D: the `strata sync` code path (load the connection file,
// open the destination, ingest::run_sync, print the report) without linking every other module,
// so the benchmark can be built quickly. Exit codes as `strata sync`. After the report it prints
// "phases: open and sync A s, close C s" (A: DuckDB opens while the source is discovered, then the
// streams run; C: DuckDB's checkpoint at close), which the benchmark shows next to the stream's
// own stage/merge split. --staging-memory MIB replaces SyncOptions::staging_memory (0: no limit),
// to compare.
// --in-process-after SQL runs the sync as a `strata serve` sync task does instead: in a process
// that already holds the warehouse open and has synced before. It syncs once (untimed), runs SQL
// on the source, then times a second sync (loading the connection file and run_sync, with the
// task runner's options) and prints "in-process sync: S s" after its report.
// With --query it times one query on a DuckDB file instead.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "common/time.h"
#include "ingest/connection_config.h"
#include "ingest/destination.h"
#include "ingest/sync.h"
#include "pg/connection.h"
#include "warehouse/warehouse.h"

namespace {

using namespace strata;

// --query FILE SQL: runs SQL on the DuckDB file and prints "query: S s, rows: N" (reading bronze
// through its merge-on-read view versus as one table).
int run_query(const char* path, const char* sql) {
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

struct Flags {
  std::string connection, project_dir;
  std::optional<uint64_t> staging_memory_mib;
  std::optional<std::string> in_process_after;
};

std::optional<Flags> parse_flags(int argc, char** argv) {
  if (argc < 4 || std::string(argv[2]) != "--project-dir") return std::nullopt;
  Flags flags{argv[1], argv[3], std::nullopt, std::nullopt};
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--staging-memory") {
      char* end = nullptr;
      flags.staging_memory_mib = std::strtoull(argv[i + 1], &end, 10);
      if (!end || *end != '\0') return std::nullopt;
    } else if (flag == "--in-process-after") {
      flags.in_process_after = argv[i + 1];
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 != 0) return std::nullopt;
  return flags;
}

int fail(const Error& error, const SecretMasker& masker) {
  std::cerr << masker.mask(error.to_string()) << "\n";
  return error.exit_code();
}

// As `strata sync`: this process opens the destination while the source is discovered, owns it,
// and closes it (a checkpoint) at the end.
int run_owned(const Flags& flags, ingest::ConnectionConfig& config, SecretMasker& masker) {
  ingest::SyncOptions options;
  options.masker = &masker;
  options.staging_threads = 1;  // as strata sync: the process owns the database
  options.staging_memory = flags.staging_memory_mib ? *flags.staging_memory_mib << 20 : ingest::kStagingMemory;
  auto destination = ingest::resolve_destination(config, process_env(), &masker);
  if (!destination.ok()) return fail(destination.error(), masker);
  ingest::CreatedDatabaseCleanup created(*destination);
  std::unique_ptr<warehouse::Database> db;
  const ingest::DatabaseOpener open = [&] { return ingest::open_destination(*destination); };
  const int64_t syncing = monotonic_micros();
  auto report = ingest::run_sync(config, open, options, db);
  if (report.ok()) created.keep();
  const int64_t closing = monotonic_micros();
  db.reset();  // the checkpoint DuckDB runs at close belongs to the sync's cost
  const int64_t closed = monotonic_micros();
  if (!report.ok()) return fail(report.error(), masker);
  std::cout << ingest::report_to_text(*report) << std::flush;
  std::printf("phases: open and sync %.3f s, close %.3f s\n", static_cast<double>(closing - syncing) / 1e6,
              static_cast<double>(closed - closing) / 1e6);
  return report->ok() ? 0 : 1;
}

// As a `strata serve` sync task (orchestrate::SyncRunner): the warehouse is open already and
// shared, so the options leave its threads and memory limit alone.
int run_in_process(const Flags& flags, const ingest::ConnectionConfig& loaded, SecretMasker& masker) {
  auto destination = ingest::resolve_destination(loaded, process_env(), &masker);
  if (!destination.ok()) return fail(destination.error(), masker);
  auto db = ingest::open_destination(*destination);
  if (!db.ok()) return fail(db.error(), masker);
  YamlOptions yaml;
  yaml.masker = &masker;
  const std::string path = ingest::connection_path(flags.project_dir, flags.connection);
  auto sync_task = [&]() -> Result<ingest::SyncReport> {
    STRATA_ASSIGN(ingest::ConnectionConfig config, ingest::load_connection_config(path, yaml));
    ingest::SyncOptions options;
    options.masker = &masker;
    return ingest::run_sync(config, **db, options);
  };
  auto warm = sync_task();
  if (!warm.ok()) return fail(warm.error(), masker);
  {
    pg::ConnectOptions connect;
    connect.masker = &masker;
    auto source = pg::Connection::connect(loaded.source.conninfo(), connect);
    if (!source.ok()) return fail(source.error(), masker);
    Status changed = source->execute(*flags.in_process_after);
    if (!changed.ok()) return fail(changed.error(), masker);
  }
  const int64_t start = monotonic_micros();
  auto report = sync_task();
  const int64_t end = monotonic_micros();
  if (!report.ok()) return fail(report.error(), masker);
  std::cout << ingest::report_to_text(*report) << std::flush;
  std::printf("in-process sync: %.3f s\n", static_cast<double>(end - start) / 1e6);
  return report->ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--query") return run_query(argv[2], argv[3]);
  std::optional<Flags> flags = parse_flags(argc, argv);
  if (!flags) {
    std::cerr << "usage: ingest_sync_driver CONN --project-dir DIR [--staging-memory MIB] [--in-process-after SQL]\n"
                 "       ingest_sync_driver --query DUCKDB_FILE SQL\n";
    return 2;
  }
  SecretMasker masker;
  YamlOptions yaml;
  yaml.masker = &masker;
  auto config = ingest::load_connection_config(ingest::connection_path(flags->project_dir, flags->connection), yaml);
  if (!config.ok()) return fail(config.error(), masker);
  return flags->in_process_after ? run_in_process(*flags, *config, masker) : run_owned(*flags, *config, masker);
}

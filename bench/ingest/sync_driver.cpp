// ingest_sync_driver CONN --project-dir D: the `strata sync` code path (load the connection file,
// open the destination, ingest::run_sync, print the report) without linking every other module,
// so the benchmark can be built quickly. Exit codes as `strata sync`.
#include <cstdio>
#include <iostream>
#include <string>

#include "ingest/connection_config.h"
#include "ingest/destination.h"
#include "ingest/sync.h"

int main(int argc, char** argv) {
  using namespace strata;
  if (argc != 4 || std::string(argv[2]) != "--project-dir") {
    std::cerr << "usage: ingest_sync_driver CONN --project-dir DIR\n";
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
  auto db = ingest::open_destination(*config, process_env(), &masker);
  if (!db.ok()) {
    std::cerr << db.error().to_string() << "\n";
    return db.error().exit_code();
  }
  ingest::SyncOptions options;
  options.masker = &masker;
  options.staging_threads = 1;  // as strata sync: the process owns the database
  auto report = ingest::run_sync(*config, **db, options);
  if (!report.ok()) {
    std::cerr << masker.mask(report.error().to_string()) << "\n";
    return report.error().exit_code();
  }
  std::cout << ingest::report_to_text(*report);
  return report->ok() ? 0 : 1;
}

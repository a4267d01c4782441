// Benchmark: rows per second of the DuckDB bulk writer for a 4-column stream (INTEGER, BIGINT,
// DOUBLE, VARCHAR of 10-20 characters) against DuckDB's own read_csv of the same rows, in one
// run, each into its own DuckDB file. Prints both figures and the ratio writer / read_csv.
// Usage: duckdb_writer_bench [--rows N] [--dir FOLDER] [--threads T]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "warehouse/warehouse.h"

namespace {

using strata::Status;
using strata::sql::ColumnBatch;
using strata::sql::LogicalType;
using strata::warehouse::Warehouse;

struct Options {
  int64_t rows = 5'000'000;
  std::string dir;
  int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void die(const std::string& what, const strata::Error& error) {
  std::cerr << what << ": " << error.to_string() << "\n";
  std::exit(1);
}

void check(const std::string& what, const Status& status) {
  if (!status.ok()) die(what, status.error());
}

// Row i's text: 10 to 20 characters, deterministic.
void text_for(int64_t i, std::string& out) {
  out = "item-";
  out += std::to_string(i % 100000);
  size_t target = 10 + static_cast<size_t>(i % 11);
  while (out.size() < target) out += static_cast<char>('a' + (i + static_cast<int64_t>(out.size())) % 26);
}

// Fills batch with rows [first, first+count).
void generate(ColumnBatch& batch, int64_t first, int64_t count) {
  batch.clear();
  std::string text;
  for (int64_t i = first; i < first + count; ++i) {
    batch.column(0).append<int32_t>(static_cast<int32_t>(i % 1000003));
    batch.column(1).append<int64_t>(i * 7919);
    batch.column(2).append<double>(static_cast<double>(i) * 0.25);
    text_for(i, text);
    batch.column(3).append_bytes(text);
  }
}

strata::sql::Schema bench_schema() {
  return {{"a", LogicalType::int32()}, {"b", LogicalType::int64()}, {"c", LogicalType::float64()},
          {"d", LogicalType::varchar()}};
}

std::unique_ptr<strata::warehouse::Database> open(const std::string& path, const Options& options) {
  strata::warehouse::DuckDbOptions db_options;
  db_options.threads = options.threads;
  auto db = strata::warehouse::open_duckdb(path, db_options);
  if (!db.ok()) die("open " + path, db.error());
  return std::move(*db);
}

// Returns {seconds in the writer, seconds generating batches}.
std::pair<double, double> run_writer(Warehouse& wh, const Options& options) {
  auto schema = bench_schema();
  strata::warehouse::Relation rel{"", "main", "bench_writer"};
  check("create", wh.execute(strata::warehouse::create_table_sql(wh.dialect(), rel, schema)));
  ColumnBatch batch(schema);
  double writing = 0, generating = 0;
  auto start = std::chrono::steady_clock::now();
  check("begin", wh.begin());
  auto writer = wh.writer(rel, schema);
  if (!writer.ok()) die("writer", writer.error());
  writing += seconds_since(start);
  for (int64_t first = 0; first < options.rows; first += strata::sql::kBatchRows) {
    auto gen_start = std::chrono::steady_clock::now();
    generate(batch, first, std::min<int64_t>(strata::sql::kBatchRows, options.rows - first));
    generating += seconds_since(gen_start);
    auto append_start = std::chrono::steady_clock::now();
    check("append", (*writer)->append(batch));
    writing += seconds_since(append_start);
  }
  auto finish_start = std::chrono::steady_clock::now();
  check("finish", (*writer)->finish());
  check("commit", wh.commit());
  writing += seconds_since(finish_start);
  return {writing, generating};
}

double write_csv(const std::string& path, const Options& options) {
  auto start = std::chrono::steady_clock::now();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
  std::string buffer, text;
  char num[64];
  for (int64_t i = 0; i < options.rows; ++i) {
    int n = std::snprintf(num, sizeof num, "%d,%lld,%.17g,", static_cast<int>(i % 1000003),
                          static_cast<long long>(i * 7919), static_cast<double>(i) * 0.25);
    buffer.append(num, static_cast<size_t>(n));
    text_for(i, text);
    buffer += text;
    buffer += '\n';
    if (buffer.size() > (1 << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), f);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), f);
  std::fclose(f);
  return seconds_since(start);
}

double run_read_csv(Warehouse& wh, const std::string& csv) {
  std::string sql = "CREATE TABLE bench_csv AS SELECT * FROM read_csv(" + wh.dialect().quote_string(csv) +
                    ", header = false, delim = ',', auto_detect = false,"
                    " columns = {'a': 'INTEGER', 'b': 'BIGINT', 'c': 'DOUBLE', 'd': 'VARCHAR'})";
  auto start = std::chrono::steady_clock::now();
  check("read_csv", wh.execute(sql));
  return seconds_since(start);
}

std::string count_of(Warehouse& wh, const std::string& table) {
  auto r = wh.query("SELECT count(*), sum(b), sum(length(d)) FROM " + table);
  if (!r.ok()) die("count", r.error());
  return r->cell_text(0, 0) + " rows, sum(b) " + r->cell_text(0, 1) + ", sum(length(d)) " + r->cell_text(0, 2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) o.rows = std::atoll(argv[++i]);
    else if (arg == "--dir" && i + 1 < argc) o.dir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc) o.threads = std::atoi(argv[++i]);
    else {
      std::cerr << "usage: duckdb_writer_bench [--rows N] [--dir FOLDER] [--threads T]\n";
      std::exit(2);
    }
  }
  if (o.rows <= 0) o.rows = 1;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  namespace fs = std::filesystem;
  bool own_dir = options.dir.empty();
  if (own_dir) {
    options.dir = (fs::temp_directory_path() / ("strata-bench-" + std::to_string(::getpid()))).string();
  }
  fs::create_directories(options.dir);
  const std::string writer_db = options.dir + "/writer.duckdb", csv_db = options.dir + "/csv.duckdb";
  const std::string csv = options.dir + "/rows.csv";
  fs::remove(writer_db);
  fs::remove(csv_db);

  std::printf("duckdb_writer: %lld rows of (INTEGER, BIGINT, DOUBLE, VARCHAR 10-20 chars), DuckDB %s\n",
              static_cast<long long>(options.rows), strata::warehouse::duckdb_library_version().c_str());
  double writer_s = 0, generate_s = 0, csv_write_s = 0, read_csv_s = 0;
  std::string writer_check, csv_check;
  {
    auto db = open(writer_db, options);
    auto wh = db->connect();
    if (!wh.ok()) die("connect", wh.error());
    std::tie(writer_s, generate_s) = run_writer(**wh, options);
    writer_check = count_of(**wh, "bench_writer");
  }
  csv_write_s = write_csv(csv, options);
  {
    auto db = open(csv_db, options);
    auto wh = db->connect();
    if (!wh.ok()) die("connect", wh.error());
    read_csv_s = run_read_csv(**wh, csv);
    csv_check = count_of(**wh, "bench_csv");
  }
  double rows = static_cast<double>(options.rows);
  std::printf("  batch generation (not timed):  %8.3f s\n", generate_s);
  std::printf("  bulk writer (append+commit):   %8.3f s  %12.0f rows/s   [%s]\n", writer_s, rows / writer_s,
              writer_check.c_str());
  std::printf("  CSV file written (not timed):  %8.3f s  %.1f MB\n", csv_write_s,
              static_cast<double>(fs::file_size(csv)) / 1e6);
  std::printf("  read_csv (CREATE TABLE AS):    %8.3f s  %12.0f rows/s   [%s]\n", read_csv_s, rows / read_csv_s,
              csv_check.c_str());
  std::printf("  ratio writer / read_csv:       %8.2f  (goal >= 1.00)\n", (rows / writer_s) / (rows / read_csv_s));
  if (writer_check != csv_check) {
    std::fprintf(stderr, "MISMATCH between the two tables\n");
    return 1;
  }
  if (own_dir) fs::remove_all(options.dir);
  return 0;
}

// The NovaDrive ERP generator (`strata demo-source`) against a real PostgreSQL: the seven tables
// with keys, deterministic from the seed, a little dirty, and a live mode that inserts and updates.

#include <gtest/gtest.h>

#include "cli/demo/erp_sql.h"
#include "e2e/e2e_support.h"
#include "support/pg_cluster.h"

namespace strata::testing {
namespace {

constexpr const char* kScale = "0.02";  // 2,000 vendas

std::string fingerprint_sql() {
  std::string sql;
  for (const auto& table : cli::demo::erp_tables()) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT '" + table + "', count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM " +
           table + " t";
  }
  return sql;
}

std::string one(const std::string& conninfo, const std::string& sql) {
  auto rows = pg_rows(conninfo, sql);
  if (rows.size() != 1) throw std::runtime_error("expected one row from " + sql);
  return rows[0];
}

TEST(ErpSource, CreatesSevenTablesWithKeysDeterministicFromTheSeed) {
  auto& pg = shared_pg_cluster();
  const std::string a = pg.create_database("nd_erp_a"), b = pg.create_database("nd_erp_b"),
                    c = pg.create_database("nd_erp_c");
  for (const auto& [db, seed] : {std::pair{std::string("nd_erp_a"), "7"}, {"nd_erp_b", "7"}, {"nd_erp_c", "8"}}) {
    auto run = run_strata({"demo-source", "--url", pg.url(db), "--scale", kScale, "--seed", seed});
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  const auto sizes = cli::demo::erp_sizes(0.02);
  const auto print_a = pg_rows(a, fingerprint_sql());
  EXPECT_EQ(print_a, pg_rows(b, fingerprint_sql())) << "same seed, different data";
  EXPECT_NE(print_a, pg_rows(c, fingerprint_sql())) << "another seed gave the same data";
  EXPECT_EQ(one(a, "SELECT count(*) FROM vendas"), std::to_string(sizes.vendas));
  EXPECT_EQ(one(a, "SELECT count(*) FROM clientes"), std::to_string(sizes.clientes));
  EXPECT_EQ(one(a, "SELECT count(*), count(DISTINCT sigla) FROM estados"), "27|27");
  EXPECT_EQ(one(a, "SELECT count(*) FROM cidades"), "81");

  // Primary keys on all seven tables, foreign keys as the ERP has them.
  EXPECT_EQ(one(a, "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text IN "
                   "('estados','cidades','concessionarias','vendedores','clientes','veiculos','vendas')"),
            "7");
  EXPECT_EQ(one(a, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"), "8");
  // Every sale's dealership is its salesperson's dealership.
  EXPECT_EQ(one(a, "SELECT count(*) FROM vendas v JOIN vendedores s USING (id_vendedores) "
                   "WHERE s.id_concessionarias <> v.id_concessionarias"),
            "0");
}

TEST(ErpSource, DataIsALittleDirty) {
  auto& pg = shared_pg_cluster();
  const std::string db = pg.create_database("nd_erp_dirty");
  auto run = run_strata({"demo-source", "--url", pg.url("nd_erp_dirty"), "--scale", kScale});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto count = [&](const std::string& sql) { return std::stoll(one(db, sql)); };
  EXPECT_GT(count("SELECT count(*) FROM clientes WHERE cliente <> trim(cliente) OR cliente LIKE '%  %'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM clientes WHERE cliente = upper(cliente)"), 0);
  EXPECT_GT(count("SELECT count(*) FROM vendas WHERE data_atualizacao IS NULL"), 0);
  EXPECT_GT(count("SELECT count(*) FROM vendas WHERE data_atualizacao IS NOT NULL"), 0);
  EXPECT_GT(count("SELECT count(*) FROM veiculos WHERE valor LIKE '%,%'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM veiculos WHERE tipo NOT IN ('SUV','Sedã','Hatch','Picape','Elétrico')"), 0);
  EXPECT_EQ(one(db, "SELECT data_type FROM information_schema.columns WHERE table_name = 'veiculos' "
                    "AND column_name = 'valor'"),
            "character varying");
}

TEST(ErpSource, LiveModeInsertsSalesAndUpdatesRows) {
  auto& pg = shared_pg_cluster();
  const std::string db = pg.create_database("nd_erp_live");
  ASSERT_EQ(run_strata({"demo-source", "--url", pg.url("nd_erp_live"), "--scale", kScale}).exit_code, 0);
  const std::string before = one(db, "SELECT max(data_atualizacao) FROM vendas");
  auto run = run_strata({"demo-source", "--url", pg.url("nd_erp_live"), "--no-create", "--live", "--rate", "100",
                         "--changes", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // 100 changes: 60 sales, 10 price corrections, 30 address changes (ids drawn with repeats).
  EXPECT_EQ(one(db, "SELECT count(*) FROM vendas"), std::to_string(cli::demo::erp_sizes(0.02).vendas + 60));
  const std::string newer = "data_atualizacao > '" + before + "'";
  EXPECT_EQ(one(db, "SELECT count(*) FROM vendas WHERE " + newer), "60");
  const long long prices = std::stoll(one(db, "SELECT count(*) FROM veiculos WHERE " + newer));
  const long long addresses = std::stoll(one(db, "SELECT count(*) FROM clientes WHERE " + newer));
  EXPECT_GE(prices, 1);
  EXPECT_LE(prices, 10);
  EXPECT_GE(addresses, 20);
  EXPECT_LE(addresses, 30);
  // New sales keep the keys consistent.
  EXPECT_EQ(one(db, "SELECT count(*) FROM vendas v JOIN vendedores s USING (id_vendedores) "
                    "WHERE s.id_concessionarias <> v.id_concessionarias"),
            "0");
}

TEST(ErpSource, BadUrlIsAClearErrorWithoutThePassword) {
  auto run = run_strata({"demo-source", "--url", "postgresql://someone:hunter2secret@127.0.0.1:1/nowhere"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("127.0.0.1"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("hunter2secret"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace strata::testing

#include "e2e/novadrive_scenario.h"

#include <utility>

#include "cli/demo/demo_stages.h"
#include "cli/demo/erp_sql.h"
#include "support/pg_cluster.h"

namespace strata::testing {
namespace {

// The same question of both sides: PostgreSQL over the ERP, the warehouse over gold (SQL that
// DuckDB and PostgreSQL read alike).
struct Question {
  const char* what;
  const char* erp;
  const char* gold;
};

const Question kGoldQuestions[] = {
    {"revenue per dealership with its state",
     "SELECT c.id_concessionarias, e.sigla, count(v.id_vendas), coalesce(sum(v.valor_pago), 0)::numeric(18,2) "
     "FROM concessionarias c JOIN cidades ci USING (id_cidades) JOIN estados e USING (id_estados) "
     "LEFT JOIN vendas v ON v.id_concessionarias = c.id_concessionarias GROUP BY 1, 2",
     "SELECT dealership_id, state_code, sales_count, cast(revenue AS DECIMAL(18,2)) FROM gold.revenue_by_dealership"},
    {"sales per month and state",
     "SELECT to_char(date_trunc('month', v.data_venda), 'YYYY-MM-DD'), e.sigla, count(*), "
     "sum(v.valor_pago)::numeric(18,2) FROM vendas v JOIN concessionarias c USING (id_concessionarias) "
     "JOIN cidades ci USING (id_cidades) JOIN estados e USING (id_estados) GROUP BY 1, 2",
     "SELECT cast(sales_month AS VARCHAR), state_code, sales_count, cast(revenue AS DECIMAL(18,2)) "
     "FROM gold.monthly_sales_by_state"},
    {"sales per salesperson",
     "SELECT s.id_vendedores, s.id_concessionarias, count(v.id_vendas), coalesce(sum(v.valor_pago), 0)::numeric(18,2) "
     "FROM vendedores s LEFT JOIN vendas v ON v.id_vendedores = s.id_vendedores GROUP BY 1, 2",
     "SELECT salesperson_id, dealership_id, sales_count, cast(revenue AS DECIMAL(18,2)) "
     "FROM gold.salesperson_performance"},
    {"units and revenue per vehicle, with the list price parsed from text",
     "SELECT ve.id_veiculos, (CASE WHEN ve.valor LIKE '%,%' THEN trim(replace(replace(replace(ve.valor, 'R$', ''), "
     "'.', ''), ',', '.')) ELSE trim(ve.valor) END)::numeric(12,2), count(v.id_vendas), "
     "coalesce(sum(v.valor_pago), 0)::numeric(18,2) FROM veiculos ve LEFT JOIN vendas v "
     "ON v.id_veiculos = ve.id_veiculos GROUP BY 1, 2",
     "SELECT vehicle_id, list_price, units_sold, cast(revenue AS DECIMAL(18,2)) FROM gold.top_vehicles"},
    {"purchases per customer with the current address",
     "SELECT c.id_clientes, coalesce(c.endereco, '∅'), count(v.id_vendas), coalesce(sum(v.valor_pago), 0)::numeric(18,2) "
     "FROM clientes c LEFT JOIN vendas v ON v.id_clientes = c.id_clientes GROUP BY 1, 2",
     "SELECT customer_id, coalesce(address, '∅'), purchases, cast(total_spent AS DECIMAL(18,2)) "
     "FROM gold.customer_summary"},
};

// The ERP's columns, as bronze must hold them.
const std::pair<const char*, const char*> kBronzeTables[] = {
    {"estados", "id_estados, estado, sigla, data_inclusao, data_atualizacao"},
    {"cidades", "id_cidades, cidade, id_estados, data_inclusao, data_atualizacao"},
    {"concessionarias", "id_concessionarias, concessionaria, id_cidades, data_inclusao, data_atualizacao"},
    {"vendedores", "id_vendedores, nome, id_concessionarias, data_inclusao, data_atualizacao"},
    {"clientes", "id_clientes, cliente, endereco, id_concessionarias, data_inclusao, data_atualizacao"},
    {"veiculos", "id_veiculos, nome, tipo, valor, data_inclusao, data_atualizacao"},
    {"vendas",
     "id_vendas, id_veiculos, id_concessionarias, id_vendedores, id_clientes, valor_pago, data_venda, data_inclusao, "
     "data_atualizacao"},
};

}  // namespace

NovaDriveScenario::NovaDriveScenario(std::string database)
    : database_(std::move(database)), conninfo_(shared_pg_cluster().create_database(database_)) {}

void NovaDriveScenario::run_pipeline() {
  auto env = project_.env(database_);
  for (const auto& [name, value] : warehouse_env()) env[name] = value;
  for (const auto& stage : cli::demo::pipeline_stages(strata_binary(), project_.dir())) {
    auto run = run_strata(stage.args, env, project_.dir());
    ASSERT_EQ(run.exit_code, 0) << "strata " << stage.name << ":\n" << run.output;
  }
}

void NovaDriveScenario::expect_gold_matches_erp() {
  for (const auto& q : kGoldQuestions) {
    auto expected = pg_rows(conninfo_, q.erp);
    ASSERT_FALSE(expected.empty()) << q.what;
    EXPECT_EQ(warehouse_rows(q.gold), expected) << q.what;
  }
}

void NovaDriveScenario::expect_bronze_matches_erp() {
  for (const auto& [table, columns] : kBronzeTables) {
    const std::string cols = columns;
    EXPECT_EQ(warehouse_rows("SELECT " + cols + " FROM bronze." + table),
              pg_rows(conninfo_, "SELECT " + cols + " FROM " + table))
        << "bronze." << table;
    const std::string key = cols.substr(0, cols.find(','));
    EXPECT_EQ(warehouse_rows("SELECT count(*) - count(DISTINCT " + key + ") FROM bronze." + table),
              std::vector<std::string>{"0"})
        << "duplicates in bronze." << table;
  }
}

void NovaDriveScenario::expect_silver_sales_match_erp() {
  EXPECT_EQ(warehouse_rows("SELECT count(*), count(DISTINCT sale_id) FROM silver.sales"),
            pg_rows(conninfo_, "SELECT count(*), count(*) FROM vendas"));
}

void NovaDriveScenario::run_scenario() {
  auto& pg = shared_pg_cluster();
  auto created = run_strata({"demo-source", "--url", pg.url(database_), "--scale", "0.02", "--seed", "11"});
  ASSERT_EQ(created.exit_code, 0) << created.output;

  run_pipeline();
  if (HasFatalFailure()) return;
  expect_bronze_matches_erp();
  expect_gold_matches_erp();
  expect_silver_sales_match_erp();

  // Live changes: 120 new sales, up to 20 price corrections, up to 60 address changes.
  auto live = run_strata({"demo-source", "--url", pg.url(database_), "--no-create", "--live", "--rate", "200",
                          "--changes", "200"});
  ASSERT_EQ(live.exit_code, 0) << live.output;
  run_pipeline();
  if (HasFatalFailure()) return;
  expect_bronze_matches_erp();
  expect_gold_matches_erp();
  expect_silver_sales_match_erp();
  EXPECT_EQ(warehouse_rows("SELECT count(*) FROM silver.sales"),
            std::vector<std::string>{std::to_string(cli::demo::erp_sizes(0.02).vendas + 120)});
}

}  // namespace strata::testing

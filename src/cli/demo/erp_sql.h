#pragma once
// The NovaDrive ERP as SQL for PostgreSQL: the seven tables (estados, cidades, concessionarias,
// vendedores, clientes, veiculos, vendas) with primary and foreign keys, filled server side with
// INSERT … SELECT … FROM generate_series, every value derived from md5(seed, table, row number) so
// the same seed and scale always give the same rows. The data is a little dirty on purpose: names
// with stray spaces and mixed case, ~15 % NULL data_atualizacao, prices (veiculos.valor, text) some
// of them Brazilian-formatted ("R$ 72.990,00") or padded, vehicle types spelled several ways.
// Pure functions producing SQL text; thread-safe. Helpers live in pg_temp, so every statement of
// one script must run on the same session.

#include <cstdint>
#include <string>
#include <vector>

namespace strata::cli::demo {

// What to generate. scale 1 ≈ 100,000 vendas; fractional scales give small test data sets.
struct ErpOptions {
  double scale = 1.0;
  std::int64_t seed = 42;
  std::string schema = "public";
};

// Row counts per table for a scale (estados is always 27, cidades 81, veiculos 60).
struct ErpSizes {
  std::int64_t estados = 0, cidades = 0, concessionarias = 0, vendedores = 0, clientes = 0, veiculos = 0,
               vendas = 0;
};
ErpSizes erp_sizes(double scale);

// The seven table names, parents first.
const std::vector<std::string>& erp_tables();

// One step of a script: a label for progress output and the SQL (possibly several statements).
struct SqlStep {
  std::string label;
  std::string sql;
};

// The full creation script: helpers, DROP + CREATE of the seven tables, the inserts, then keys,
// indexes and ANALYZE. Run the steps in order on one session. Precondition: scale > 0.
std::vector<SqlStep> erp_create_script(const ErpOptions& options);

// One batch of live changes in one transaction: ~60 % new vendas (data_venda = now), ~10 % price
// corrections on veiculos, the rest customer address changes; every changed row gets
// data_atualizacao = localtimestamp. `tick` varies the rows chosen between batches. The helpers
// (erp_helpers_sql) must exist on the session. Precondition: changes >= 1.
std::string erp_live_batch_sql(const ErpOptions& options, std::int64_t changes, std::int64_t tick);

// The pg_temp helper functions used by both scripts (idempotent: CREATE OR REPLACE).
std::string erp_helpers_sql();

}  // namespace strata::cli::demo

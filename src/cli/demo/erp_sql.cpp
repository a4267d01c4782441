#include "cli/demo/erp_sql.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "cli/demo/erp_vocabulary.h"
#include "common/strings.h"
#include "sql/dialect.h"

namespace strata::cli::demo {
namespace {

// Every generated timestamp lies before this instant, so live changes (stamped with the clock)
// always sort after the generated history.
constexpr const char* kAnchor = "TIMESTAMP '2025-07-01 00:00:00'";

std::string lit(const std::string& value) { return sql::postgres_dialect().quote_string(value); }

std::string text_array(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  quoted.reserve(values.size());
  for (const auto& v : values) quoted.push_back(lit(v));
  return "ARRAY[" + join(quoted, ",") + "]::text[]";
}

std::int64_t scaled(double scale, double per_scale_one, std::int64_t minimum) {
  return std::max<std::int64_t>(minimum, static_cast<std::int64_t>(std::llround(per_scale_one * scale)));
}

// "<schema>.<table>", quoted.
struct Names {
  explicit Names(const std::string& schema) : schema_(sql::postgres_dialect().quote_identifier(schema)) {}
  std::string operator()(const std::string& table) const { return schema_ + "." + table; }
  std::string schema_;
};

// The row-hash prelude: for row `row` of table `tag`, eight independent 32-bit values p0 … p7 taken
// from two md5 digests. OFFSET 0 keeps them computed once per row, so the pg_temp helpers get plain
// columns as arguments and are inlined by the planner.
std::string hashes(std::int64_t seed, const std::string& tag, const std::string& row) {
  std::vector<std::string> parts;
  for (int i = 0; i < 8; ++i)
    parts.push_back(fmt::format("('x' || substr(h{}, {}, 8))::bit(32)::bigint AS p{}", i / 4 + 1, 1 + 8 * (i % 4), i));
  return fmt::format(
      "LATERAL (SELECT {3} FROM (SELECT md5('{0}:{1}:' || {2}) AS h1, md5('{0}:{1}b:' || {2}) AS h2 OFFSET 0) m "
      "OFFSET 0) hh",
      seed, tag, row, join(parts, ", "));
}

std::string create_tables_sql(const Names& t) {
  return fmt::format(R"(
DROP TABLE IF EXISTS {vendas}, {clientes}, {vendedores}, {veiculos}, {concessionarias}, {cidades}, {estados} CASCADE;
CREATE TABLE {estados} (
  id_estados integer PRIMARY KEY, estado varchar(60) NOT NULL, sigla char(2) NOT NULL UNIQUE,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {cidades} (
  id_cidades integer PRIMARY KEY, cidade varchar(80) NOT NULL, id_estados integer NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {concessionarias} (
  id_concessionarias integer PRIMARY KEY, concessionaria varchar(120) NOT NULL, id_cidades integer NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {vendedores} (
  id_vendedores integer PRIMARY KEY, nome varchar(120) NOT NULL, id_concessionarias integer NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {clientes} (
  id_clientes integer PRIMARY KEY, cliente varchar(160) NOT NULL, endereco varchar(200),
  id_concessionarias integer NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {veiculos} (
  id_veiculos integer PRIMARY KEY, nome varchar(120) NOT NULL, tipo varchar(30) NOT NULL, valor varchar(30) NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
CREATE TABLE {vendas} (
  id_vendas bigint PRIMARY KEY, id_veiculos integer NOT NULL, id_concessionarias integer NOT NULL,
  id_vendedores integer NOT NULL, id_clientes integer NOT NULL, valor_pago numeric(12,2) NOT NULL,
  data_venda timestamp NOT NULL,
  data_inclusao timestamp NOT NULL DEFAULT localtimestamp, data_atualizacao timestamp);
)",
                     fmt::arg("estados", t("estados")), fmt::arg("cidades", t("cidades")),
                     fmt::arg("concessionarias", t("concessionarias")), fmt::arg("vendedores", t("vendedores")),
                     fmt::arg("clientes", t("clientes")), fmt::arg("veiculos", t("veiculos")),
                     fmt::arg("vendas", t("vendas")));
}

std::string geography_sql(const Names& t, std::int64_t seed) {
  std::vector<std::string> states, cities;
  int city_id = 0;
  const auto& all = brazil_states();
  for (size_t i = 0; i < all.size(); ++i) {
    states.push_back(fmt::format("({},{},{})", i + 1, lit(all[i].name), lit(all[i].sigla)));
    for (const auto& city : all[i].cities) cities.push_back(fmt::format("({},{},{})", ++city_id, lit(city), i + 1));
  }
  return fmt::format(R"(
INSERT INTO {estados}
SELECT v.id, v.estado, v.sigla, pg_temp.nd_when(p0, 1800),
       pg_temp.nd_updated(pg_temp.nd_when(p0, 1800), p1)
FROM (VALUES {states}) v(id, estado, sigla), {hs};
DROP TABLE IF EXISTS pg_temp.nd_cidades;
CREATE TEMP TABLE nd_cidades AS SELECT * FROM (VALUES {cities}) v(id, cidade, id_estados);
INSERT INTO {cidades}
SELECT v.id, pg_temp.nd_dirty(v.cidade, p2), v.id_estados,
       pg_temp.nd_when(p0, 1500),
       pg_temp.nd_updated(pg_temp.nd_when(p0, 1500), p1)
FROM pg_temp.nd_cidades v, {hc};
)",
                     fmt::arg("estados", t("estados")), fmt::arg("cidades", t("cidades")),
                     fmt::arg("states", join(states, ",")), fmt::arg("cities", join(cities, ",")),
                     fmt::arg("hs", hashes(seed, "estados", "v.id")), fmt::arg("hc", hashes(seed, "cidades", "v.id")));
}

std::string people_sql(const Names& t, std::int64_t seed, const ErpSizes& n) {
  return fmt::format(R"(
INSERT INTO {concessionarias}
SELECT g, pg_temp.nd_dirty('Nova Drive ' || c.cidade || ' ' || (voc.suffixes)[1 + p1 % cardinality(voc.suffixes)],
                           p2),
       c.id, pg_temp.nd_when(p3, 1400),
       pg_temp.nd_updated(pg_temp.nd_when(p3, 1400), p4)
FROM generate_series(1, {nc}) g, {hcon},
     (SELECT {suffixes} AS suffixes) voc,
     LATERAL (SELECT CASE WHEN g <= 27 THEN (g - 1) * 3 + 1 ELSE 1 + p0 % 81 END AS id) pick
JOIN pg_temp.nd_cidades c ON c.id = pick.id;
INSERT INTO {vendedores}
SELECT g, pg_temp.nd_dirty((voc.firsts)[1 + p0 % cardinality(voc.firsts)] || ' ' ||
                           (voc.lasts)[1 + p1 % cardinality(voc.lasts)], p2),
       1 + (g - 1) % {nc}, pg_temp.nd_when(p3, 1300),
       pg_temp.nd_updated(pg_temp.nd_when(p3, 1300), p4)
FROM generate_series(1, {nv}) g, {hven}, (SELECT {firsts} AS firsts, {lasts} AS lasts) voc;
INSERT INTO {clientes}
SELECT g, pg_temp.nd_dirty((voc.firsts)[1 + p0 % cardinality(voc.firsts)] || ' ' ||
                           (voc.lasts)[1 + p1 % cardinality(voc.lasts)] || ' ' ||
                           (voc.lasts)[1 + p5 % cardinality(voc.lasts)], p2),
       pg_temp.nd_address(p6),
       1 + p7 % {nc}, pg_temp.nd_when(p3, 1200),
       pg_temp.nd_updated(pg_temp.nd_when(p3, 1200), p4)
FROM generate_series(1, {ncl}) g, {hcli}, (SELECT {firsts} AS firsts, {lasts} AS lasts) voc;
)",
                     fmt::arg("concessionarias", t("concessionarias")), fmt::arg("vendedores", t("vendedores")),
                     fmt::arg("clientes", t("clientes")), fmt::arg("nc", n.concessionarias),
                     fmt::arg("nv", n.vendedores), fmt::arg("ncl", n.clientes),
                     fmt::arg("suffixes", text_array(dealership_suffixes())), fmt::arg("firsts", text_array(first_names())),
                     fmt::arg("lasts", text_array(surnames())), fmt::arg("hcon", hashes(seed, "concessionarias", "g")),
                     fmt::arg("hven", hashes(seed, "vendedores", "g")), fmt::arg("hcli", hashes(seed, "clientes", "g")));
}

std::string vehicles_sql(const Names& t, std::int64_t seed) {
  std::vector<std::string> models, trims, dirty;
  const auto& all_models = vehicle_models();
  for (size_t i = 0; i < all_models.size(); ++i)
    models.push_back(fmt::format("({},{},{},{})", i + 1, lit(all_models[i].name), lit(all_models[i].type),
                                 all_models[i].base_price));
  const auto& all_trims = vehicle_trims();
  for (size_t i = 0; i < all_trims.size(); ++i)
    trims.push_back(fmt::format("({},{},{})", i + 1, lit(all_trims[i].name), all_trims[i].price_percent));
  for (const auto& [clean, spelled] : dirty_vehicle_types()) dirty.push_back(fmt::format("({},{})", lit(clean), lit(spelled)));
  return fmt::format(R"(
INSERT INTO {veiculos}
SELECT (m.i - 1) * {ntrims} + v.i,
       pg_temp.nd_dirty(m.nome || ' ' || v.nome, p0),
       CASE WHEN p1 % 4 = 0
            THEN (d.spellings)[1 + p2 % cardinality(d.spellings)] ELSE m.tipo END,
       pg_temp.nd_fmt_valor((round(m.preco * v.pct / 10000.0) * 100 - 10)::numeric(12, 2), p3),
       pg_temp.nd_when(p4, 1000),
       pg_temp.nd_updated(pg_temp.nd_when(p4, 1000), p5)
FROM (VALUES {models}) m(i, nome, tipo, preco)
CROSS JOIN (VALUES {trims}) v(i, nome, pct)
JOIN (SELECT clean, array_agg(spelled ORDER BY spelled) AS spellings FROM (VALUES {dirty}) x(clean, spelled)
      GROUP BY clean) d ON d.clean = m.tipo,
     {hv};
)",
                     fmt::arg("veiculos", t("veiculos")), fmt::arg("ntrims", all_trims.size()),
                     fmt::arg("models", join(models, ",")), fmt::arg("trims", join(trims, ",")),
                     fmt::arg("dirty", join(dirty, ",")), fmt::arg("hv", hashes(seed, "veiculos", "(m.i - 1) * 100 + v.i")));
}

// Sales rows numbered base + 1 … base + count. `when` is the SQL for data_venda given hashes;
// `stamps` the SQL for (data_inclusao, data_atualizacao) given data_venda as x.data_venda.
std::string sales_insert_sql(const Names& t, std::int64_t seed, const std::string& tag, const std::string& base,
                             const std::string& count, const std::string& when, const std::string& stamps) {
  return fmt::format(R"(
INSERT INTO {vendas}
SELECT x.id, x.id_veiculos, vd.id_concessionarias, vd.id_vendedores, x.id_clientes,
       round(pg_temp.nd_valor(ve.valor) * (100 - x.desconto) / 100.0, 2), x.data_venda, {stamps}
FROM (SELECT b.base + g AS id,
             1 + least(b.nve - 1, floor(b.nve * power(p1::float8 / 4294967296.0, 1.7))::int) AS id_veiculos,
             1 + p0 % b.nv AS id_vendedores, 1 + p2 % b.ncl AS id_clientes,
             {when} AS data_venda, p4 % 9 AS desconto,
             p5 AS r_ins, p6 AS r_upd
      FROM (SELECT {base} AS base, (SELECT max(id_veiculos) FROM {veiculos}) AS nve,
                   (SELECT max(id_vendedores) FROM {vendedores}) AS nv,
                   (SELECT max(id_clientes) FROM {clientes}) AS ncl) b,
           generate_series(1, {count}) g, {hs}) x
JOIN {vendedores} vd ON vd.id_vendedores = x.id_vendedores
JOIN {veiculos} ve ON ve.id_veiculos = x.id_veiculos;
)",
                     fmt::arg("vendas", t("vendas")), fmt::arg("veiculos", t("veiculos")),
                     fmt::arg("vendedores", t("vendedores")), fmt::arg("clientes", t("clientes")),
                     fmt::arg("base", base), fmt::arg("count", count), fmt::arg("when", when),
                     fmt::arg("stamps", stamps), fmt::arg("hs", hashes(seed, tag, "(b.base + g)")));
}

std::string keys_sql(const Names& t) {
  return fmt::format(R"(
ALTER TABLE {cidades} ADD CONSTRAINT cidades_id_estados_fkey FOREIGN KEY (id_estados) REFERENCES {estados};
ALTER TABLE {concessionarias} ADD CONSTRAINT concessionarias_id_cidades_fkey FOREIGN KEY (id_cidades) REFERENCES {cidades};
ALTER TABLE {vendedores} ADD CONSTRAINT vendedores_id_concessionarias_fkey
  FOREIGN KEY (id_concessionarias) REFERENCES {concessionarias};
ALTER TABLE {clientes} ADD CONSTRAINT clientes_id_concessionarias_fkey
  FOREIGN KEY (id_concessionarias) REFERENCES {concessionarias};
ALTER TABLE {vendas} ADD CONSTRAINT vendas_id_veiculos_fkey FOREIGN KEY (id_veiculos) REFERENCES {veiculos},
  ADD CONSTRAINT vendas_id_concessionarias_fkey FOREIGN KEY (id_concessionarias) REFERENCES {concessionarias},
  ADD CONSTRAINT vendas_id_vendedores_fkey FOREIGN KEY (id_vendedores) REFERENCES {vendedores},
  ADD CONSTRAINT vendas_id_clientes_fkey FOREIGN KEY (id_clientes) REFERENCES {clientes};
CREATE INDEX vendas_data_atualizacao_idx ON {vendas} (data_atualizacao);
CREATE INDEX vendas_data_venda_idx ON {vendas} (data_venda);
CREATE INDEX clientes_data_atualizacao_idx ON {clientes} (data_atualizacao);
ANALYZE {estados}, {cidades}, {concessionarias}, {vendedores}, {clientes}, {veiculos}, {vendas};
)",
                     fmt::arg("estados", t("estados")), fmt::arg("cidades", t("cidades")),
                     fmt::arg("concessionarias", t("concessionarias")), fmt::arg("vendedores", t("vendedores")),
                     fmt::arg("clientes", t("clientes")), fmt::arg("veiculos", t("veiculos")),
                     fmt::arg("vendas", t("vendas")));
}

}  // namespace

ErpSizes erp_sizes(double scale) {
  ErpSizes s;
  s.estados = static_cast<std::int64_t>(brazil_states().size());
  s.cidades = s.estados * kCitiesPerState;
  s.veiculos = static_cast<std::int64_t>(vehicle_models().size() * vehicle_trims().size());
  s.concessionarias = scaled(scale, 60, 3);
  s.vendedores = scaled(scale, 600, 6);
  s.clientes = scaled(scale, 25000, 20);
  s.vendas = scaled(scale, 100000, 20);
  return s;
}

const std::vector<std::string>& erp_tables() {
  static const std::vector<std::string> kTables = {"estados",  "cidades",  "concessionarias", "vendedores",
                                                   "clientes", "veiculos", "vendas"};
  return kTables;
}

std::string erp_helpers_sql() {
  std::vector<std::string> streets = street_names(), hoods = neighbourhoods();
  return fmt::format(R"(
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION pg_temp.nd_part(h text, i int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
  $$ SELECT ('x' || substr(h, 1 + 8 * i, 8))::bit(32)::bigint $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_when(r bigint, days int) RETURNS timestamp LANGUAGE sql IMMUTABLE AS
  $$ SELECT {anchor} - (r % (days::bigint * 86400)) * interval '1 second' $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_updated(ins timestamp, r bigint) RETURNS timestamp LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE WHEN r % 100 < 15 THEN NULL
                 ELSE least({anchor} + interval '90 days', ins + (r / 100 % (180 * 86400)) * interval '1 second') END $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_dirty(v text, r bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE r % 25 WHEN 0 THEN upper(v) WHEN 1 THEN lower(v) WHEN 2 THEN '  ' || v WHEN 3 THEN v || '   '
                        WHEN 4 THEN replace(v, ' ', '  ') WHEN 5 THEN ' ' || upper(v) || ' ' ELSE v END $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_fmt_valor(v numeric, r bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE r % 10 WHEN 0 THEN 'R$ ' || translate(to_char(v, 'FM999,999,990.00'), ',.', '.,')
                        WHEN 1 THEN translate(to_char(v, 'FM999,999,990.00'), ',.', '.,')
                        WHEN 2 THEN ' ' || to_char(v, 'FM99999990.00') || ' '
                        ELSE to_char(v, 'FM99999990.00') END $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_valor(t text) RETURNS numeric LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE WHEN t LIKE '%,%' THEN trim(replace(replace(replace(t, 'R$', ''), '.', ''), ',', '.'))::numeric
                 ELSE trim(t)::numeric END $$;
CREATE OR REPLACE FUNCTION pg_temp.nd_address(r bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE WHEN r % 100 = 0 THEN NULL
                 ELSE ({streets})[1 + r % {nstreets}] || ', ' || (1 + r / 7 % 2400) || ' - ' ||
                      ({hoods})[1 + r / 11 % {nhoods}] END $$;
)",
                     fmt::arg("anchor", kAnchor), fmt::arg("streets", text_array(streets)),
                     fmt::arg("nstreets", streets.size()), fmt::arg("hoods", text_array(hoods)),
                     fmt::arg("nhoods", hoods.size()));
}

std::vector<SqlStep> erp_create_script(const ErpOptions& options) {
  const Names t(options.schema);
  const ErpSizes n = erp_sizes(options.scale);
  const std::int64_t seed = options.seed;
  std::vector<SqlStep> steps;
  steps.push_back({"helpers", erp_helpers_sql() + "CREATE SCHEMA IF NOT EXISTS " + t.schema_ + ";"});
  steps.push_back({"tables", create_tables_sql(t)});
  steps.push_back({"estados, cidades", geography_sql(t, seed)});
  steps.push_back({"concessionarias, vendedores, clientes", people_sql(t, seed, n)});
  steps.push_back({"veiculos", vehicles_sql(t, seed)});
  steps.push_back(
      {"vendas",
       sales_insert_sql(t, seed, "vendas", "0", std::to_string(n.vendas),
                        "pg_temp.nd_when(p3, 730)",
                        "x.data_venda + (x.r_ins % 7200) * interval '1 second', "
                        "pg_temp.nd_updated(x.data_venda + (x.r_ins % 7200) * interval '1 second', x.r_upd)")});
  steps.push_back({"keys, indexes", keys_sql(t)});
  return steps;
}

std::string erp_live_batch_sql(const ErpOptions& options, std::int64_t changes, std::int64_t tick) {
  const Names t(options.schema);
  const std::int64_t inserts = std::max<std::int64_t>(1, changes * 6 / 10);
  const std::int64_t prices = changes / 10;
  const std::int64_t addresses = changes - inserts - prices;
  const std::string key = fmt::format("{}:{}", options.seed, tick);
  std::string sql = "BEGIN;\n";
  sql += sales_insert_sql(t, options.seed, "live" + std::to_string(tick),
                          "(SELECT coalesce(max(id_vendas), 0) FROM " + t("vendas") + ")", std::to_string(inserts),
                          "localtimestamp(0)", "localtimestamp, localtimestamp");
  if (prices > 0)
    sql += fmt::format(R"(
UPDATE {veiculos} v SET data_atualizacao = localtimestamp,
  valor = to_char(round(pg_temp.nd_valor(v.valor) * (96 + pg_temp.nd_part(md5('{key}:p' || v.id_veiculos), 1) % 11) / 1000) * 10,
                  'FM99999990.00')
WHERE v.id_veiculos IN (SELECT 1 + pg_temp.nd_part(md5('{key}:p:' || g), 0) % (SELECT max(id_veiculos) FROM {veiculos})
                        FROM generate_series(1, {n}) g);
)",
                       fmt::arg("veiculos", t("veiculos")), fmt::arg("key", key), fmt::arg("n", prices));
  if (addresses > 0)
    sql += fmt::format(R"(
UPDATE {clientes} c SET data_atualizacao = localtimestamp,
  endereco = pg_temp.nd_address(pg_temp.nd_part(md5('{key}:a' || c.id_clientes), 0) / 100 * 100 + 1)
WHERE c.id_clientes IN (SELECT 1 + pg_temp.nd_part(md5('{key}:a:' || g), 0) % (SELECT max(id_clientes) FROM {clientes})
                        FROM generate_series(1, {n}) g);
)",
                       fmt::arg("clientes", t("clientes")), fmt::arg("key", key), fmt::arg("n", addresses));
  sql += "COMMIT;\n";
  return sql;
}

}  // namespace strata::cli::demo

// Every PostgreSQL type the issue lists, with values, NULLs and extremes, synced into DuckDB and
// compared value by value with PostgreSQL's own text output (TimeZone UTC).

#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

// "a, b::text, f(x, 'y')" -> {"a", "b::text", "f(x, 'y')"}: splits at top-level commas.
std::vector<std::string> split_columns(const std::string& list) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : list) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.emplace_back();
      continue;
    }
    if (!(c == ' ' && out.back().empty())) out.back() += c;
  }
  return out;
}

class Types : public IngestTest {
 protected:
  // Syncs public.<table> (full refresh) and asserts it succeeded; its report is in last_report_.
  void sync_table(const std::string& table) {
    std::string conn = write_connection("streams:\n  - name: public." + table + "\n");
    auto r = sync(conn);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
    last_report_ = std::move(*r);
  }
  // Table t with an array of each element kind: values with NULL elements (row 1), empty (2), NULL (3).
  void create_arrays_table(std::vector<std::pair<std::string, std::string>>& columns);
  SyncReport last_report_;
};

TEST_F(Types, ScalarsValueByValue) {
  create_scalars_table();
  sync_table("t");
  expect_same(
      "SELECT id, CASE WHEN b THEN 'true' WHEN NOT b THEN 'false' END, i2, i4, i8, n, n2, nu, m::numeric, tx, vc, ch, nm,"
      " ci::text, e::text, p, encode(bya, 'hex'), d, tm, ttz, ts, tstz, iv, u, j, jb, ip, cidr_::text, mac, tsv,"
      " pt, rng FROM t WHERE id <> 2 ORDER BY id",
      "SELECT id, b, i2, i4, i8, n, n2, nu, m, tx, vc, ch, nm, ci, e, p, lower(hex(bya)), d, tm, ttz, ts, tstz, iv, u, j,"
      " jb, ip, cidr_, mac, tsv, pt, rng FROM bronze.t WHERE id <> 2 ORDER BY id", 22);
  // Row 2 holds the extremes; its timestamp 294276-12-31 is past what microseconds since 1970 hold.
  expect_same(
      "SELECT id, i2, i4, i8, n, n2, nu, m::numeric, tx, d, tm, ttz, tstz, iv, u, j, jb FROM t WHERE id = 2",
      "SELECT id, i2, i4, i8, n, n2, nu, m, tx, d, tm, ttz, tstz, iv, u, j, jb FROM bronze.t WHERE id = 2", 13);
  Rows extreme = bronze_rows("SELECT ts, _strata_meta FROM bronze.t WHERE id = 2");
  EXPECT_EQ(extreme[0][0], kNull);
  EXPECT_NE(extreme[0][1].find("\"column\":\"ts\""), std::string::npos) << extreme[0][1];
  // Floats: compare as numbers (text forms differ between engines); NaN and infinities by class.
  Rows floats = bronze_rows(
      "SELECT f4 = 1.5, isinf(f4) AND f4 > 0, isinf(f4) AND f4 < 0, f8 = -2.25e300, isnan(f8) FROM bronze.t ORDER BY id");
  ASSERT_EQ(floats.size(), 4u);
  EXPECT_EQ(floats[0][0], "true");
  EXPECT_EQ(floats[0][3], "true");
  EXPECT_EQ(floats[1][1], "true");
  EXPECT_EQ(floats[1][4], "true");
  EXPECT_EQ(floats[3][2], "true");
  // The bronze types.
  Rows types = bronze_rows(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'bronze' AND table_name = 't'"
      " AND column_name IN ('n', 'n2', 'nu', 'm', 'j', 'u', 'tstz', 'ttz', 'iv', 'bya', 'ip') ORDER BY column_name");
  EXPECT_EQ(dump(types), "bya | BLOB | \nip | VARCHAR | \niv | INTERVAL | \nj | JSON | \nm | DECIMAL(19,2) | \n"
                         "n | DECIMAL(38,10) | \nn2 | DECIMAL(5,2) | \nnu | VARCHAR | \ntstz | TIMESTAMP WITH TIME ZONE | \n"
                         "ttz | TIME WITH TIME ZONE | \nu | UUID | \n");
}

// money counts the minor unit of the currency of the database's lc_monetary: 0 fraction digits
// for yen, 3 for the Kuwaiti dinar. The locales are compiled into a folder of this test's
// (localedef, from Debian's locales package) and a cluster of its own finds them through LOCPATH.
TEST_F(Types, MoneyKeepsTheFractionDigitsOfTheDatabasesCurrency) {
  strata::testing::TempDir locales;
  std::filesystem::permissions(locales.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                   std::filesystem::perms::group_exec |
                                                   std::filesystem::perms::others_read |
                                                   std::filesystem::perms::others_exec);
  for (const std::string locale : {"ja_JP", "ar_KW"}) {
    const std::string command = "localedef -i " + locale + " -f UTF-8 '" + locales.file(locale + ".UTF-8") +
                                "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command << " failed: is Debian's locales package installed?";
  }
  ASSERT_EQ(::setenv("LOCPATH", locales.path().c_str(), 1), 0);
  strata::testing::PgCluster cluster;  // its server keeps the LOCPATH it started with
  ::unsetenv("LOCPATH");
  pg_ = &cluster;
  pg_->create_database(db_name_);
  source("CREATE TABLE t (id int PRIMARY KEY, m money, ma money[]);"
         "INSERT INTO t VALUES (1, 1234::numeric::money, ARRAY[0::numeric::money, (-98765)::numeric::money]),"
         " (2, '92233720368547758.07'::money, NULL), (3, NULL, '{}'), (4, '-92233720368547758.08'::money, NULL)");
  const std::string pg_select = "SELECT id, m::numeric, ma::numeric[]::text FROM t ORDER BY id";
  const std::string duck_select =
      "SELECT id, m, CASE WHEN len(ma) = 0 THEN '{}' ELSE '{' || array_to_string(ma, ',') || '}' END FROM bronze.t "
      "ORDER BY id";
  const std::string types_select =
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'bronze' AND "
      "table_name = 't' AND column_name IN ('m', 'ma') ORDER BY column_name";
  for (const auto& [locale, type] : {std::pair<std::string, std::string>{"ja_JP.UTF-8", "DECIMAL(19,0)"},
                                     std::pair<std::string, std::string>{"ar_KW.UTF-8", "DECIMAL(19,3)"}}) {
    SCOPED_TRACE(locale);
    pg_->execute("ALTER DATABASE " + db_name_ + " SET lc_monetary = '" + locale + "'");
    sync_table("t");
    Rows want = source_rows(pg_select);
    ASSERT_EQ(want.size(), 4u);
    // 1234 was stored as 123400 minor units (the C locale's two digits): the same amount in each currency.
    EXPECT_EQ(want[0][1], type == "DECIMAL(19,0)" ? "123400" : "123.400");
    EXPECT_EQ(bronze_rows(duck_select), want);
    EXPECT_EQ(dump(bronze_rows(types_select)), "m | " + type + " | \nma | " + type + "[] | \n");
  }
}

TEST_F(Types, TimeTzKeepsItsOffsetAsDuckDbsTimeTz) {
  source("CREATE TABLE t (id int PRIMARY KEY, v timetz, a timetz[]);"
         "INSERT INTO t VALUES (1, '12:34:56.5+05:30', '{01:02:03-03:30:15,NULL}'), (2, '00:00:00-15:59:59', '{}'),"
         " (3, '24:00:00+00', NULL), (4, NULL, '{23:59:59.000001+15:59:59}')");
  sync_table("t");
  const Rows want = source_rows("SELECT id, v, a FROM t ORDER BY id");
  // DuckDB's own text of the values (its engine decodes what the writer stored), then Strata's reading.
  Rows duck = bronze_rows("SELECT id, v::VARCHAR, a::VARCHAR FROM bronze.t ORDER BY id");
  Rows read = bronze_rows("SELECT id, v, a FROM bronze.t ORDER BY id");
  ASSERT_EQ(duck.size(), 4u);
  ASSERT_EQ(read.size(), 4u);
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(duck[r][1], want[r][1]) << "row " << r;
    EXPECT_EQ(read[r][1], want[r][1]) << "row " << r;
  }
  EXPECT_EQ(duck[0][2], "['01:02:03-03:30:15', NULL]");  // DuckDB quotes a list's elements
  EXPECT_EQ(read[3][2], "[23:59:59.000001+15:59:59]");
  // Equal to DuckDB's parse of PostgreSQL's text, and the same instant: 12:34:56.5+05:30 is 07:04:56.5 UTC.
  EXPECT_EQ(bronze_rows("SELECT v = '12:34:56.5+05:30'::TIMETZ, timezone('UTC', v)::VARCHAR FROM bronze.t WHERE id = 1"),
            (Rows{{"true", "07:04:56.5+00"}}));
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_schema = 'bronze'"
                        " AND table_name = 't' AND column_name IN ('v', 'a') ORDER BY column_name"),
            (Rows{{"TIME WITH TIME ZONE[]"}, {"TIME WITH TIME ZONE"}}));

  // An incremental stream whose bronze column holds timetz as text (as Strata loaded it before
  // TIMETZ) keeps that type and gets the same text form, with a notice.
  std::string conn = write_connection("streams:\n  - name: public.t\n    sync_mode: incremental_append\n"
                                      "    cursor_field: id\n");
  SyncOptions full;
  full.full_refresh = true;
  auto load = sync(conn, full);
  ASSERT_TRUE(load.ok()) << load.error().to_string();
  // As then: the column is text, and the state's schema hash is that of the old mapping.
  bronze_rows("ALTER TABLE bronze.t ALTER COLUMN v TYPE VARCHAR");
  bronze_rows("UPDATE bronze._strata_state SET schema_hash = 'of the VARCHAR mapping'");
  source("INSERT INTO t VALUES (5, '01:00:00+01', NULL)");
  auto first = sync(conn);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(first->ok()) << report_to_text(*first);
  EXPECT_EQ(first->streams[0].rows, 2u);  // the cursor is inclusive: id 4 again, then 5
  EXPECT_EQ(bronze_rows("SELECT v FROM bronze.t WHERE id = 5"), (Rows{{"01:00:00+01"}}));
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.t WHERE id = 4"), (Rows{{"1"}}));
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_schema = 'bronze'"
                        " AND table_name = 't' AND column_name = 'v'"),
            (Rows{{"VARCHAR"}}));
  EXPECT_NE(report_to_text(*first).find("bronze keeps its wider type VARCHAR"), std::string::npos)
      << report_to_text(*first);
}

TEST_F(Types, TextFormsAndEncodingDoNotDependOnTheSourcesSettings) {
  // Types read as text, and text itself, come out the same whatever the database sets for its
  // sessions: Strata's own sessions fix the settings that shape them.
  source(R"sql(
    CREATE TYPE cp AS (d date, f float8, b bytea, i interval);
    CREATE TABLE t (id int PRIMARY KEY, r tstzrange, c cp, s text);
    INSERT INTO t VALUES (1, '[2024-01-02 03:04:05+00,2024-02-03 00:00:00+00)',
                          ROW('2024-01-02', 0.1::float8 + 0.2::float8, '\x0102ff', '1 day 2 hours'), 'café ü');
  )sql");
  source("ALTER DATABASE " + db_name_ + " SET DateStyle = 'SQL, DMY'; ALTER DATABASE " + db_name_ +
         " SET TimeZone = 'Asia/Kolkata'; ALTER DATABASE " + db_name_ + " SET IntervalStyle = 'sql_standard';"
         "ALTER DATABASE " + db_name_ + " SET bytea_output = 'escape'; ALTER DATABASE " + db_name_ +
         " SET extra_float_digits = 0; ALTER DATABASE " + db_name_ + " SET client_encoding = 'LATIN1'");
  sync_table("t");
  EXPECT_EQ(bronze_rows("SELECT r, c, s FROM bronze.t"),
            (Rows{{"[\"2024-01-02 03:04:05+00\",\"2024-02-03 00:00:00+00\")",
                   "(2024-01-02,0.30000000000000004,\"\\\\x0102ff\",\"1 day 02:00:00\")", "café ü"}}));
}

TEST_F(Types, TextThatIsNotUtf8InASqlAsciiDatabaseBecomesNullWithANote) {
  pg_->execute("DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)");
  pg_->execute("CREATE DATABASE " + db_name_ + " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  source("CREATE TABLE t (id int, s text, a text[]);"
         "INSERT INTO t VALUES (1, E'bad \\xff\\xfe bytes', ARRAY[E'ok', E'\\xc3']), (2, E'caf\\xc3\\xa9 ok', NULL)");
  sync_table("t");
  EXPECT_EQ(bronze_rows("SELECT id, s, a FROM bronze.t ORDER BY id"),
            (Rows{{"1", kNull, "[ok, NULL]"}, {"2", "café ok", kNull}}));
  const std::string meta = bronze_rows("SELECT _strata_meta FROM bronze.t WHERE id = 1")[0][0];
  EXPECT_NE(meta.find("not valid UTF-8"), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"column\":\"a\""), std::string::npos) << meta;
}

TEST_F(Types, UnrepresentableValuesBecomeNullWithMetaNotes) {
  source("CREATE TABLE t (id int, n numeric(10,2), d date, ds date[]);"
         "INSERT INTO t VALUES (1, 'NaN', 'infinity', '{infinity,2020-01-02}'), (2, NULL, '-infinity', NULL),"
         " (3, 1.5, '2020-01-01', '{}')");
  sync_table("t");
  Rows rows = bronze_rows("SELECT id, n, d, ds, _strata_meta FROM bronze.t ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][1], kNull);
  EXPECT_NE(rows[0][4].find("\"column\":\"n\""), std::string::npos) << rows[0][4];
  EXPECT_NE(rows[0][4].find("NaN"), std::string::npos) << rows[0][4];
  // DuckDB's DATE holds ±infinity: kept as values, not notes.
  EXPECT_EQ(rows[0][2], "infinity");
  EXPECT_EQ(rows[0][3], "[infinity, 2020-01-02]");
  EXPECT_EQ(rows[0][4].find("\"column\":\"d\""), std::string::npos) << rows[0][4];
  EXPECT_EQ(rows[1][2], "-infinity");
  EXPECT_EQ(rows[1][4], kNull);
  EXPECT_EQ(rows[2][1], "1.50");
  EXPECT_EQ(rows[2][4], kNull);
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.t WHERE d > DATE '9999-12-31' AND isinf(d)")[0][0], "1");
  EXPECT_EQ(bronze_rows("SELECT count(*) FROM bronze.t WHERE json_extract_string(_strata_meta, '$.changes[0].change')"
                        " = 'NULLED'")[0][0], "1");
  // An unconstrained numeric keeps NaN and infinities in its exact text form.
  source("CREATE TABLE u (id int, n numeric); INSERT INTO u VALUES (1, 'NaN'), (2, 'Infinity'), (3, '-Infinity')");
  sync_table("u");
  EXPECT_EQ(bronze_rows("SELECT n, _strata_meta FROM bronze.u ORDER BY id"),
            (Rows{{"NaN", kNull}, {"Infinity", kNull}, {"-Infinity", kNull}}));
  // The report counts values made NULL, not rows that have one.
  source("CREATE TABLE w (id int, a numeric(5,1), b numeric(5,1), c numeric(5,1)[]);"
         "INSERT INTO w VALUES (1, 'NaN', 'NaN', '{NaN,1,NaN}'), (2, 'NaN', 1, NULL), (3, 1, 1, '{1}')");
  sync_table("w");
  EXPECT_EQ(last_report_.streams[0].notes, 5u) << bronze_rows("SELECT _strata_meta FROM bronze.w ORDER BY id")[0][0];
}

TEST_F(Types, ArraysIncludingEmptyNestedAndNullElements) {
  source("CREATE TABLE t (id int, ai int[], txa text[], an numeric(6,2)[], nested int[][], ts timestamptz[], ips inet[]);"
         "INSERT INTO t VALUES"
         " (1, '{1,NULL,-3}', '{\"a b\",\"\",NULL,\"ü\"}', '{1.5,-2.25}', '{{1,2},{3,4}}', '{\"2024-01-01 00:00:00+00\"}',"
         "  '{10.0.0.1,::1}'),"
         " (2, '{}', '{}', '{}', '{}', '{}', '{}'),"
         " (3, NULL, NULL, NULL, '{{NULL}}', NULL, NULL),"
         " (4, '[0:2]={7,8,9}', NULL, NULL, '[2:2][-1:0]={{5,6}}', NULL, NULL)");
  sync_table("t");
  // Bounds other than 1 keep the elements, in a list that starts at 1, and say so; they are no
  // NULLed values.
  EXPECT_EQ(last_report_.streams[0].notes, 0u);
  const Rows shifted = bronze_rows("SELECT ai, nested, _strata_meta FROM bronze.t WHERE id = 4");
  ASSERT_EQ(shifted.size(), 1u);
  EXPECT_EQ(shifted[0][0], "[7, 8, 9]");
  EXPECT_EQ(shifted[0][1], "[[5, 6]]");
  EXPECT_NE(shifted[0][2].find("{\"change\":\"BOUNDS_DROPPED\",\"column\":\"ai\",\"reason\":\"the array's bounds were "
                               "[0:2]; the list starts at 1\"}"),
            std::string::npos)
      << shifted[0][2];
  EXPECT_NE(shifted[0][2].find("\"column\":\"nested\",\"reason\":\"the array's bounds were [2:2][-1:0]"),
            std::string::npos)
      << shifted[0][2];
  Rows rows = bronze_rows("SELECT id, ai, txa, an, nested, ts, ips, len(ai), len(nested) FROM bronze.t ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][1], "[1, NULL, -3]");
  EXPECT_EQ(bronze_rows("SELECT txa[1], txa[2], txa[3] IS NULL, txa[4] FROM bronze.t WHERE id = 1")[0],
            (std::vector<std::string>{"a b", "", "true", "ü"}));
  EXPECT_EQ(rows[0][3], "[1.50, -2.25]");
  EXPECT_EQ(rows[0][4], "[[1, 2], [3, 4]]");
  EXPECT_EQ(rows[0][5], "[2024-01-01 00:00:00+00]");
  EXPECT_EQ(rows[0][6], "[10.0.0.1, ::1]");  // inet's output form: a host has no /32 or /128
  EXPECT_EQ(rows[1][1], "[]");
  EXPECT_EQ(rows[1][4], "[]");
  EXPECT_EQ(rows[1][7], "0");
  EXPECT_EQ(rows[2][1], kNull);
  EXPECT_EQ(rows[2][4], "[[NULL]]");
}

TEST_F(Types, ArraysOfEveryElementKindValueByValue) {
  // Each array column compared element by element as text; NULL elements, empty and NULL arrays.
  std::vector<std::pair<std::string, std::string>> columns;
  create_arrays_table(columns);
  sync_table("t");
  std::string pg = "SELECT id", duck = "SELECT id";
  for (const auto& [name, type] : columns) {
    std::string pg_elem = name == "ba" ? "encode(x, 'hex')" : "x::text";
    std::string duck_elem = name == "ba" ? "lower(hex(x))" : "x::varchar";
    pg += ", CASE WHEN " + name + " IS NULL THEN 'null array' ELSE coalesce((SELECT string_agg(coalesce(" + pg_elem +
          ", 'NULL'), '|' ORDER BY o) FROM unnest(" + name + ") WITH ORDINALITY u(x, o)), '') END";
    duck += ", CASE WHEN " + name + " IS NULL THEN 'null array' ELSE coalesce(array_to_string(list_transform(" + name +
            ", x -> coalesce(" + duck_elem + ", 'NULL')), '|'), '') END";
  }
  Rows want = source_rows(pg + " FROM t ORDER BY id");
  Rows got = bronze_rows(duck + " FROM bronze.t ORDER BY id");
  ASSERT_EQ(got.size(), 3u);
  for (size_t row = 0; row < want.size(); ++row) {
    for (size_t c = 1; c < want[row].size(); ++c) {
      EXPECT_EQ(got[row][c], want[row][c]) << "row " << row << " column " << columns[c - 1].first;
    }
  }
  // The element types in bronze.
  EXPECT_EQ(bronze_rows("SELECT data_type FROM information_schema.columns WHERE table_name = 't' AND column_name IN"
                        " ('b', 'nu', 'u', 'jb') ORDER BY column_name"),
            (Rows{{"BIGINT[]"}, {"JSON[]"}, {"VARCHAR[]"}, {"UUID[]"}}));
}

void Types::create_arrays_table(std::vector<std::pair<std::string, std::string>>& columns) {
  columns = {
      {"bo", "bool[]"},      {"s", "int2[]"},     {"b", "int8[]"},        {"f", "float8[]"},
      {"nu", "numeric[]"},   {"d", "date[]"},     {"ts", "timestamp[]"},  {"u", "uuid[]"},
      {"jb", "jsonb[]"},     {"vc", "varchar[]"}, {"tm", "time[]"},       {"ba", "bytea[]"}};
  std::string create = "CREATE TABLE t (id int";
  for (const auto& [name, type] : columns) create += ", " + name + " " + type;
  source(create + ");"
         "INSERT INTO t VALUES (1, '{true,NULL,false}', '{-32768,32767}', '{-9223372036854775808,NULL,9223372036854775807}',"
         " '{1.5,-0.25,NULL}', '{NaN,-1.5e-20,123456789012345678901234567890.5}', '{2024-02-29,NULL,0001-01-01}',"
         " '{\"2024-01-01 12:00:00.5\",\"1970-01-01 00:00:00\"}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}',"
         " ARRAY['{\"a\": [1, 2]}'::jsonb, 'null'::jsonb, NULL], '{\"ü ✓\",\"\",NULL,\"a,b\"}', '{00:00:00,23:59:59.999999}',"
         " ARRAY['\\x00ff'::bytea, '', NULL]),"
         " (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),"
         " (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
}

// The same types into a PostgreSQL warehouse: bronze's own text equals the source's, value by value.
TEST_F(Types, ScalarsIntoPostgresValueByValue) {
  use_postgres_destination();
  create_scalars_table();
  sync_table("t");
  // The source's text forms (char keeps its padding, inet its output form), and bronze's as text.
  Rows want = source_rows(
      "SELECT id, b::text, i2, i4, i8, f4, f8, n, n2, nu, m::numeric, tx, vc, ch, nm, ci::text, e::text, p, encode(bya, 'hex'),"
      " d, tm, ttz, CASE WHEN id = 2 THEN NULL ELSE ts END, tstz, iv, u, j::jsonb, jb, ip, cidr_::text, mac, tsv, pt,"
      " rng FROM t ORDER BY id");
  std::string select = "SELECT ";
  for (const auto& c : split_columns("id, b, i2, i4, i8, f4, f8, n, n2, nu, m, tx, vc, ch, nm, ci, e, p, bya, d, tm, "
                                     "ttz, ts, tstz, iv, u, j, jb, ip, cidr_, mac, tsv, pt, rng")) {
    select += (select.size() > 7 ? ", " : "") + (c == "bya" ? "encode(bya, 'hex')" : c + "::text");
  }
  Rows got = bronze_rows(select + " FROM bronze.t ORDER BY id");
  ASSERT_EQ(got.size(), 4u);
  ASSERT_EQ(want.size(), 4u);
  for (size_t r = 0; r < want.size(); ++r) {
    for (size_t c = 0; c < want[r].size(); ++c) {
      EXPECT_EQ(got[r][c].substr(0, 200), want[r][c].substr(0, 200)) << "row " << r << " column " << c;
      EXPECT_EQ(got[r][c].size(), want[r][c].size()) << "row " << r << " column " << c;
    }
  }
  // Row 2's timestamp 294276-12-31 is past what microseconds since 1970 hold: NULL with a note.
  EXPECT_EQ(bronze_rows("SELECT _strata_meta -> 'changes' -> 0 ->> 'column' FROM bronze.t WHERE id = 2"),
            (Rows{{"ts"}}));
  EXPECT_EQ(dump(bronze_rows(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'bronze' AND "
                "table_name = 't' AND column_name IN ('n', 'nu', 'm', 'j', 'u', 'tstz', 'ttz', 'iv', 'bya', 'ip', "
                "'_strata_meta', '_strata_extracted_at', '_strata_sync_id') ORDER BY column_name")),
            "_strata_extracted_at | timestamp with time zone | \n_strata_meta | jsonb | \n_strata_sync_id | bigint | \n"
            "bya | bytea | \nip | text | \niv | interval | \nj | jsonb | \nm | numeric | \nn | numeric | \n"
            "nu | text | \ntstz | timestamp with time zone | \nttz | time with time zone | \nu | uuid | \n");
}

TEST_F(Types, ArraysIntoPostgresValueByValue) {
  use_postgres_destination();
  std::vector<std::pair<std::string, std::string>> columns;
  create_arrays_table(columns);
  source("ALTER TABLE t ADD COLUMN nested int[][]; UPDATE t SET nested = '{{1,2},{3,NULL}}' WHERE id = 1;"
         "UPDATE t SET nested = '{}' WHERE id = 2");
  columns.emplace_back("nested", "int[][]");
  sync_table("t");
  std::string select = "SELECT id";
  for (const auto& [name, type] : columns) select += ", " + name + "::text";
  // numeric[] without a scale is text[] in bronze, and its elements are numeric's exact text.
  EXPECT_EQ(bronze_rows(select + " FROM bronze.t ORDER BY id"), source_rows(select + " FROM t ORDER BY id"));
  EXPECT_EQ(bronze_rows("SELECT nested[2][1], nested FROM bronze.t WHERE id = 1"),
            (Rows{{"3", "[[1, 2], [3, NULL]]"}}));
}

}  // namespace
}  // namespace strata::ingest::testing

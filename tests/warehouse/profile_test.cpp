// Unit tests for profiles.yml: selection, env_var, secrets, located errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"
#include "warehouse/profile.h"

namespace strata::warehouse {
namespace {

const char* kProfiles = R"(novadrive:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: .strata/novadrive.duckdb
      threads: 4
      settings:
        memory_limit: 1GB
    pg:
      type: postgres
      host: "{{ env_var('PG_HOST', 'localhost') }}"
      port: "{{ env_var('PG_PORT', '5432') }}"
      user: app
      password: "{{ env_var('PG_PASSWORD') }}"
      dbname: warehouse
      schema: analytics
      sslmode: disable
    bq:
      type: bigquery
      project: my-project
      dataset: analytics
      method: service-account
      keyfile: /secrets/key.json
)";

ProfileOptions options_with(std::map<std::string, std::string> env, std::string target = {}) {
  ProfileOptions o;
  o.project_dir = "/project";
  o.profile_name = "novadrive";
  o.target = std::move(target);
  o.env = map_env(std::move(env));
  return o;
}

TEST(Profiles, DefaultTargetIsDuckDbWithPathResolvedAgainstTheProject) {
  auto t = parse_target(kProfiles, "profiles.yml", options_with({{"PG_PASSWORD", "x"}}));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->name, "dev");
  EXPECT_EQ(t->type, TargetType::kDuckDb);
  EXPECT_EQ(t->schema, "main");
  EXPECT_EQ(t->threads, 4);
  EXPECT_EQ(t->duckdb_path(), "/project/.strata/novadrive.duckdb");
  EXPECT_EQ(t->settings.at("memory_limit"), "1GB");
  EXPECT_EQ(t->where.line, 5);
}

TEST(Profiles, PostgresTargetTakesEnvVarsAndRegistersThePassword) {
  SecretMasker masker;
  ProfileOptions o = options_with({{"PG_PASSWORD", "s3cr3t-pw"}, {"PG_PORT", "6543"}}, "pg");
  o.masker = &masker;
  auto t = parse_target(kProfiles, "profiles.yml", o);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->type, TargetType::kPostgres);
  EXPECT_EQ(t->host, "localhost");
  EXPECT_EQ(t->port, 6543);
  EXPECT_EQ(t->password, "s3cr3t-pw");
  EXPECT_EQ(t->schema, "analytics");
  EXPECT_EQ(masker.mask("auth failed for s3cr3t-pw"), "auth failed for ****");
  EXPECT_EQ(t->describe().find("s3cr3t"), std::string::npos);
  EXPECT_NE(t->describe().find("port 6543"), std::string::npos);
  EXPECT_NE(t->postgres_conninfo().find("password='s3cr3t-pw'"), std::string::npos);
}

struct BadCase {
  const char* yaml;
  const char* target;
  int line;
  int column;
  const char* message_part;
};

TEST(Profiles, BigQueryOpensThroughItsAdapter) {
  auto t = parse_target(kProfiles, "profiles.yml", options_with({{"PG_PASSWORD", "x"}}, "bq"));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->project, "my-project");
  EXPECT_EQ(t->schema, "analytics");
  EXPECT_EQ(t->method, "service-account");
  EXPECT_EQ(t->job_retries, 1);
  // The adapter is reached: its key file is missing, a located configuration error (exit 2).
  auto db = open_target(*t);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(db.error().exit_code(), 2);
  EXPECT_EQ(db.error().where().line, 20);  // the bq target
  EXPECT_NE(db.error().message().find("/secrets/key.json does not exist"), std::string::npos) << db.error().message();
}

TEST(Profiles, BigQueryAuthErrorsAreLocated) {
  const std::string head = "novadrive:\n  target: dev\n  outputs:\n    dev:\n      type: bigquery\n"
                           "      project: p\n      dataset: d\n";
  const BadCase cases[] = {
      {"", "", 5, 7, "has no method"},
      {"      method: service-account\n", "", 5, 7, "has no keyfile"},
      {"      method: jwt\n", "", 8, 15, "unknown bigquery method 'jwt'"},
      {"      method: service-account-json\n", "", 5, 7, "has no keyfile_json"},
      {"      method: service-account-json\n      keyfile_json: abc\n", "", 9, 21, "keyfile_json must be a mapping"},
      {"      method: oauth-secrets\n      client_id: x\n", "", 5, 7, "neither a token"},
      {"      method: oauth\n      priority: urgent\n", "", 9, 17, "unknown priority"},
      {"      method: oauth\n      job_retries: lots\n", "", 9, 20, "job_retries must be an integer"},
  };
  for (const auto& c : cases) {
    const std::string yaml = head + c.yaml;
    auto t = parse_target(yaml, "profiles.yml", options_with({}));
    ASSERT_FALSE(t.ok()) << yaml;
    EXPECT_EQ(t.error().code(), ErrorCode::kConfig) << yaml;
    EXPECT_EQ(t.error().exit_code(), 2);
    EXPECT_EQ(t.error().where().file, "profiles.yml");
    EXPECT_EQ(t.error().where().line, c.line) << t.error().to_string();
    EXPECT_EQ(t.error().where().column, c.column) << t.error().to_string();
    EXPECT_NE(t.error().message().find(c.message_part), std::string::npos) << t.error().to_string();
    EXPECT_FALSE(t.error().hint().empty()) << t.error().to_string();
  }
  // Secrets of oauth-secrets go to the masker; describe() shows none.
  SecretMasker masker;
  ProfileOptions o = options_with({});
  o.masker = &masker;
  auto t = parse_target(head + "      method: oauth-secrets\n      refresh_token: rt-secret-1\n      client_id: cid\n"
                               "      client_secret: cs-secret-2\n      labels: {team: data}\n"
                               "      maximum_bytes_billed: 5000\n      job_execution_timeout_seconds: 60\n",
                        "profiles.yml", o);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(masker.mask("rt-secret-1 cs-secret-2"), "**** ****");
  EXPECT_EQ(t->labels.at("team"), "data");
  EXPECT_EQ(t->maximum_bytes_billed, 5000);
  EXPECT_EQ(t->job_execution_timeout_seconds, 60);
  EXPECT_EQ(t->describe().find("secret"), std::string::npos);
}


TEST(Profiles, ErrorsAreLocated) {
  const BadCase cases[] = {
      {"other:\n  target: dev\n  outputs: {dev: {type: duckdb}}\nthird: {}\n", "", 1, 1, "profile 'novadrive'"},
      {"novadrive:\n  outputs:\n    dev: {type: duckdb}\n", "", 2, 3, "no target"},
      {"novadrive:\n  target: prod\n  outputs:\n    dev: {type: duckdb}\n", "", 2, 11, "target 'prod'"},
      {"novadrive:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n", "", 5, 13, "unknown target type"},
      {"novadrive:\n  target: dev\n  outputs:\n    dev:\n      path: x.duckdb\n", "", 5, 7, "has no type"},
      {"novadrive:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      threads: many\n", "", 6, 16,
       "threads must be an integer"},
      {"novadrive:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: h\n", "", 5, 7,
       "has no user"},
      {"novadrive:\n  target: dev\n  outputs:\n    dev: {type: duckdb}\n", "nope", 4, 5, "target 'nope'"},  // the outputs mapping
  };
  for (const auto& c : cases) {
    auto t = parse_target(c.yaml, "profiles.yml", options_with({}, c.target));
    ASSERT_FALSE(t.ok()) << c.yaml;
    EXPECT_EQ(t.error().code(), ErrorCode::kConfig) << c.yaml;
    EXPECT_EQ(t.error().where().file, "profiles.yml");
    EXPECT_EQ(t.error().where().line, c.line) << t.error().to_string();
    EXPECT_EQ(t.error().where().column, c.column) << t.error().to_string();
    EXPECT_NE(t.error().message().find(c.message_part), std::string::npos) << t.error().to_string();
    EXPECT_FALSE(t.error().hint().empty()) << t.error().to_string();
  }
  // A password variable that is not set: located error from the env_var pre-pass.
  auto unset = parse_target(kProfiles, "profiles.yml", options_with({}, "pg"));
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.error().where().line, 15);
  EXPECT_NE(unset.error().message().find("PG_PASSWORD"), std::string::npos);
}

TEST(Profiles, SearchOrderAndProfileFromDbtProject) {
  testing::TempDir dir;
  std::string project = dir.file("project"), explicit_dir = dir.file("explicit"), home = dir.file("home");
  std::filesystem::create_directories(project);
  std::filesystem::create_directories(explicit_dir);
  std::filesystem::create_directories(home + "/.dbt");
  auto write = [](const std::string& path, const std::string& text) { std::ofstream(path) << text; };
  write(project + "/dbt_project.yml", "name: p\nprofile: second\n");
  const char* two = "first:\n  target: a\n  outputs: {a: {type: duckdb, path: a.duckdb}}\n"
                    "second:\n  target: b\n  outputs: {b: {type: duckdb, path: b.duckdb}}\n";
  write(home + "/.dbt/profiles.yml", two);

  ProfileOptions o;
  o.project_dir = project;
  o.env = map_env({{"HOME", home}});
  auto found = find_profiles_file(o);
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  EXPECT_EQ(*found, home + "/.dbt/profiles.yml");
  auto t = load_target(o);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->profile, "second");
  EXPECT_EQ(t->name, "b");

  write(project + "/profiles.yml", two);
  EXPECT_EQ(*find_profiles_file(o), project + "/profiles.yml");
  o.profiles_dir = explicit_dir;
  auto missing = find_profiles_file(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find(explicit_dir), std::string::npos);
  write(explicit_dir + "/profiles.yml", two);
  EXPECT_EQ(*find_profiles_file(o), explicit_dir + "/profiles.yml");

  // open_target creates the DuckDB file (and its folder) under the project.
  o.profiles_dir.clear();
  write(project + "/profiles.yml", "second:\n  target: b\n  outputs: {b: {type: duckdb, path: sub/dir/b.duckdb}}\n");
  auto target = load_target(o);
  ASSERT_TRUE(target.ok());
  auto db = open_target(*target);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  EXPECT_TRUE(std::filesystem::exists(project + "/sub/dir/b.duckdb"));
}

}  // namespace
}  // namespace strata::warehouse

#include "common/yaml.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

YamlOptions env_with(std::map<std::string, std::string> vars, SecretMasker* masker = nullptr) {
  YamlOptions o;
  o.env = map_env(std::move(vars));
  o.masker = masker;
  return o;
}

TEST(Yaml, KeepsLineAndColumnOfEveryNode) {
  auto doc = load_yaml_string("source:\n  host: localhost\n  port: 5432\nstreams:\n  - name: public.a\n", "c.yml");
  ASSERT_TRUE(doc.ok());
  auto port = doc->root["source"]["port"];
  EXPECT_EQ(doc->where(port).to_string(), "c.yml:3:9");
  auto name = doc->root["streams"][0]["name"];
  EXPECT_EQ(doc->where(name).line, 5);
  EXPECT_EQ(doc->where(name).column, 11);
}

TEST(Yaml, SyntaxErrorIsLocated) {
  auto doc = load_yaml_string("a: 1\nb: [1, 2\nc: 3\n", "bad.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(doc.error().where().file, "bad.yml");
  EXPECT_GT(doc.error().where().line, 1);
  EXPECT_NE(doc.error().to_string().find("invalid YAML"), std::string::npos);
}

TEST(Yaml, MissingFileIsNotFound) {
  auto doc = load_yaml_file("/nonexistent/strata.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(doc.error().exit_code(), 2);
}

TEST(Yaml, EnvVarSubstitutionWithValueAndDefault) {
  auto doc = load_yaml_string(
      "host: \"{{ env_var('PG_HOST') }}\"\nport: \"{{ env_var('PG_PORT', '5432') }}\"\n"
      "url: \"postgres://{{env_var(\\\"PG_HOST\\\")}}:{{ env_var('PG_PORT', '1') }}/db\"\n"
      "other: \"{{ target.name }}\"\n",
      "p.yml", env_with({{"PG_HOST", "db.internal"}}));
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->root["host"].Scalar(), "db.internal");
  EXPECT_EQ(doc->root["port"].Scalar(), "5432");
  EXPECT_EQ(doc->root["url"].Scalar(), "postgres://db.internal:1/db");
  EXPECT_EQ(doc->root["other"].Scalar(), "{{ target.name }}");  // other Jinja is left for later
  EXPECT_EQ(doc->where(doc->root["host"]).line, 1);  // positions survive substitution
}

TEST(Yaml, MissingEnvVarIsALocatedErrorWithHint) {
  auto doc = load_yaml_string("a: 1\npassword: \"{{ env_var('NOVA_PASSWORD') }}\"\n", "conn.yml", env_with({}));
  ASSERT_FALSE(doc.ok());
  const Error& e = doc.error();
  EXPECT_EQ(e.code(), ErrorCode::kConfig);
  EXPECT_EQ(e.where().file, "conn.yml");
  EXPECT_EQ(e.where().line, 2);
  EXPECT_GT(e.where().column, 0);
  EXPECT_NE(e.message().find("NOVA_PASSWORD"), std::string::npos);
  EXPECT_NE(e.hint().find("export NOVA_PASSWORD"), std::string::npos);
}

TEST(Yaml, SecretEnvValuesAreRegisteredWithTheMasker) {
  SecretMasker masker;
  auto doc = load_yaml_string("password: \"{{ env_var('PG_PASSWORD') }}\"\nuser: \"{{ env_var('PG_USER') }}\"\n", "p.yml",
                              env_with({{"PG_PASSWORD", "hunter2!"}, {"PG_USER", "alice"}}, &masker));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(masker.mask("login alice with hunter2! failed"), "login alice with **** failed");
}

TEST(Yaml, TypedAccessorsGiveLocatedErrors) {
  auto doc = load_yaml_string("port: abc\nok: yes\nlist: [1]\n", "x.yml");
  ASSERT_TRUE(doc.ok());
  auto port = yaml_int(*doc, doc->root["port"], "port");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().to_string().substr(0, 9), "x.yml:1:7");
  EXPECT_TRUE(*yaml_bool(*doc, doc->root["ok"], "ok"));
  EXPECT_FALSE(yaml_string(*doc, doc->root["list"], "list").ok());
}

}  // namespace
}  // namespace strata

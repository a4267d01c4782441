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
  EXPECT_EQ(doc->root["host"].scalar(), "db.internal");
  EXPECT_EQ(doc->root["port"].scalar(), "5432");
  EXPECT_EQ(doc->root["url"].scalar(), "postgres://db.internal:1/db");
  EXPECT_EQ(doc->root["other"].scalar(), "{{ target.name }}");  // other Jinja is left for later
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

TEST(Yaml, ABrokenEnvVarCallIsALocatedErrorNotALiteral) {
  for (const char* value : {"{{ env_var('SHOP_DB' }}", "{{ env_var('SHOP_DB') }", "x {{- env_var('SHOP_DB' -}}"}) {
    const std::string text = "a: 1\ndatabase: \"" + std::string(value) + "\"\n";
    auto doc = load_yaml_string(text, "conn.yml", env_with({{"SHOP_DB", "shop"}}));
    ASSERT_FALSE(doc.ok()) << value;
    EXPECT_EQ(doc.error().code(), ErrorCode::kConfig) << value;
    EXPECT_EQ(doc.error().where().line, 2) << value;
    EXPECT_NE(doc.error().message().find("is not a valid env_var call"), std::string::npos) << doc.error().message();
    EXPECT_NE(doc.error().hint().find("{{ env_var('NAME') }}"), std::string::npos);
  }
  // A valid call next to other Jinja still works, and dbt's own Jinja around env_var is left for
  // its renderer.
  auto doc = load_yaml_string("database: \"{{ env_var('SHOP_DB') }}_{{ target.name }}\"\n"
                              "schema: \"{{ env_var('DBT_ENV', 'dev') | upper }}\"\n",
                              "conn.yml", env_with({{"SHOP_DB", "shop"}}));
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->root["database"].scalar(), "shop_{{ target.name }}");
  EXPECT_EQ(doc->root["schema"].scalar(), "{{ env_var('DBT_ENV', 'dev') | upper }}");
  // Where nothing renders Jinja later (a connection file), any other template is an error, at
  // the column of its braces.
  YamlOptions strict = env_with({{"SHOP_DB", "shop"}});
  strict.other_jinja = false;
  for (const char* value : {"{{ env_varr('SHOP_DB') }}", "{{ env_var('SHOP_DB') | upper }}", "{{ target.name }}"}) {
    auto bad = load_yaml_string("database: \"" + std::string(value) + "\"\n", "conn.yml", strict);
    ASSERT_FALSE(bad.ok()) << value;
    EXPECT_EQ(bad.error().where().column, 12) << value;
    EXPECT_NE(bad.error().hint().find("takes only"), std::string::npos) << value;
  }
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

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
  auto doc = load_yaml_string(
      "base: &base\n  materialized: table\n  tags: [a]\nextra: &extra {schema: s}\n"
      "model:\n  <<: [*base, *extra]\n  tags: [b]\nsame: *base\n",
      "m.yml");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  const YamlNode model = doc->root["model"];
  EXPECT_EQ(model["materialized"].scalar(), "table");
  EXPECT_EQ(model["schema"].scalar(), "s");
  ASSERT_EQ(model["tags"].size(), 1u);
  EXPECT_EQ(model["tags"][0].scalar(), "b");  // explicit keys win over merged ones
  EXPECT_FALSE(model["<<"]);
  EXPECT_EQ(doc->root["same"]["materialized"].scalar(), "table");
}

TEST(Yaml, RepeatedKeyKeepsTheLastValue) {
  auto doc = load_yaml_string("a: 1\nb: 2\na: 3\n", "d.yml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->root.size(), 2u);
  EXPECT_EQ(doc->root["a"].scalar(), "3");
}

TEST(Yaml, BadDocumentsAreLocatedErrors) {
  struct Case {
    std::string text;
    int line;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"a: 1\n---\nb: 2\n", 2, "second"},
      {"a: *nowhere\n", 1, "unknown alias"},
      {"a: 1\n  b: 2\n", 2, "invalid YAML"},
      {"a:\n\t- tab\n", 2, "invalid YAML"},
      {"[a, b]: 1\n", 1, "map key"},
      {"m: {a: 1}\nn:\n  <<: 5\n", 3, "merge"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto doc = load_yaml_string(c.text, "bad.yml");
    ASSERT_FALSE(doc.ok());
    EXPECT_EQ(doc.error().code(), ErrorCode::kConfig);
    EXPECT_EQ(doc.error().where().file, "bad.yml");
    EXPECT_EQ(doc.error().where().line, c.line);
    EXPECT_GT(doc.error().where().column, 0);
    EXPECT_NE(doc.error().message().find(c.says), std::string::npos) << doc.error().message();
  }
}

TEST(Yaml, ToJsonTypesPlainScalarsAndKeepsQuotedOnesAsText) {
  auto doc = load_yaml_string("i: 42\nf: 1.5\nb: True\nn: ~\nq: '42'\ns: hello\nl: [1, x]\nm: {k: v}\n", "j.yml");
  ASSERT_TRUE(doc.ok());
  auto j = yaml_to_json(doc->root);
  EXPECT_EQ(j.dump(), R"({"i":42,"f":1.5,"b":true,"n":null,"q":"42","s":"hello","l":[1,"x"],"m":{"k":"v"}})");
}

TEST(Yaml, UnterminatedQuoteNamesWhereTheQuoteStarts) {
  auto doc = load_yaml_string("version: 2\nmodels:\n  - name: a\n    description: \"x\n", "s.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message().find("quoted scalar that starts at line 4, column 18"), std::string::npos)
      << doc.error().message();
}

}  // namespace
}  // namespace strata

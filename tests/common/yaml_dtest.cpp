// The libyaml-based loader against yaml-cpp as a reference: same tree, same scalars, same null and
// quoted-ness, same positions, on documents shaped like dbt and Strata configuration files.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/yaml.h"

namespace strata {
namespace {

// Describes a yaml-cpp tree in a canonical text form; positions included when `marks` is set.
std::string describe(const YAML::Node& n, bool marks) {
  std::string at = marks ? "@" + std::to_string(n.Mark().line) + ":" + std::to_string(n.Mark().column) : "";
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";  // an empty value: yaml-cpp marks the next token
    case YAML::NodeType::Scalar: return (n.Tag() == "!" ? "q'" : "p'") + n.Scalar() + "'" + at;
    case YAML::NodeType::Sequence: {
      std::string s = "[" + at;
      for (const auto& item : n) s += describe(item, marks) + ",";
      return s + "]";
    }
    case YAML::NodeType::Map: {
      std::string s = "{" + at;
      for (const auto& kv : n) s += describe(kv.first, marks) + "=" + describe(kv.second, marks) + ",";
      return s + "}";
    }
    default: return "undefined";
  }
}

// The same description of a YamlNode.
std::string describe(const YamlNode& n, bool marks) {
  std::string at = marks ? "@" + std::to_string(n.line()) + ":" + std::to_string(n.column()) : "";
  switch (n.type()) {
    case YamlNode::Type::kNull: return "null";
    case YamlNode::Type::kScalar: return (n.is_quoted() ? "q'" : "p'") + n.scalar() + "'" + at;
    case YamlNode::Type::kSequence: {
      std::string s = "[" + at;
      for (const YamlEntry& item : n) s += describe(item, marks) + ",";
      return s + "]";
    }
    case YamlNode::Type::kMap: {
      std::string s = "{" + at;
      for (const YamlEntry& kv : n) s += describe(kv.first, marks) + "=" + describe(kv.second, marks) + ",";
      return s + "}";
    }
    default: return "undefined";
  }
}

const std::vector<std::string> kCorpus = {
    "version: 2\nmodels:\n  - name: stg_orders\n    description: \"Orders, one row each\"\n    columns:\n"
    "      - name: id\n        tests: [unique, not_null]\n      - name: status\n        tests:\n"
    "          - accepted_values:\n              values: ['placed', 'shipped', \"returned\"]\n",
    "name: shop\nprofile: shop\nconfig-version: 2\nmodel-paths: [\"models\"]\nmodels:\n  shop:\n"
    "    +materialized: view\n    marts:\n      +materialized: table\n      +tags: [\"nightly\", hourly]\n",
    "a: 1\nb: -2.5\nc: true\nd: ~\ne:\nf: null\ng: 'single ''quoted'''\nh: \"dq \\\"esc\\\" \\t tab\"\n",
    "text: |\n  line one\n  line two\n\nfolded: >\n  folded\n  text\nkeep: |+\n  kept\n\nstrip: |-\n  stripped\n",
    "flow: {a: 1, b: [x, y, {c: d}], 'e f': \"g\"}\nempty_map: {}\nempty_list: []\n",
    "# comment\nkey: value  # trailing\nurl: http://host:5432/db\ncolon: \"a: b\"\nhash: a#b\n",
    "nested:\n- a\n- b:\n    c: 1\n- - inner\n  - list\nunicode: \"caf\\u00e9 ☕\"\nplain: café ☕\n",
    "multi: this is a\n  multi line plain\n  scalar\nsql: select *\n      from t\n",
    "jinja: \"{{ ref('orders') }}\"\nwhere: \"{{ var('since', '2024-01-01') }}\"\n",
    "'quoted key': 1\n\"dq key\": 2\n? explicit\n: 3\n",
    "numbers: [0, 007, 0x1F, 1e3, .5, -0, +1, 1_000]\nbools: [yes, No, on, OFF, True]\n",
    "",
    "# only a comment\n",
    "- top\n- level\n- list\n",
    "scalar at root\n",
    "windows: \"line\"\r\nnext: 2\r\n",
};

TEST(YamlDifferential, SameTreeAsYamlCppOnTheCorpus) {
  for (const std::string& text : kCorpus) {
    SCOPED_TRACE(text);
    YAML::Node expected = YAML::Load(text);
    auto doc = load_yaml_string(text, "t.yml");
    ASSERT_TRUE(doc.ok()) << doc.error().to_string();
    EXPECT_EQ(describe(doc->root, false), describe(expected, false));
  }
}

TEST(YamlDifferential, SamePositionsAsYamlCppForBlockDocuments) {
  // Flow collections and block scalars are left out: the two libraries place those marks differently
  // (the bracket or the indicator), while every config error points at keys and plain values.
  for (size_t i : {0, 1, 2, 5, 6}) {
    SCOPED_TRACE(kCorpus[i]);
    auto doc = load_yaml_string(kCorpus[i], "t.yml");
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(describe(doc->root, true), describe(YAML::Load(kCorpus[i]), true));
  }
}

}  // namespace
}  // namespace strata

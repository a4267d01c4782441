// Differential test: every case of the corpus (tests/jinja/differential: hand-written cases.txt plus
// generate.py) is rendered by python3-jinja2 (oracle.py, run with /usr/bin/python3) and by our engine;
// outputs must match byte for byte, and where Jinja2 raises an error we must return one too.
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "jinja/environment.h"
#include "jinja/template.h"

namespace strata::jinja {
namespace {

std::vector<nlohmann::ordered_json> oracle_cases() {
  std::string command = std::string("/usr/bin/python3 ") + STRATA_SOURCE_DIR + "/tests/jinja/differential/oracle.py";
  std::vector<nlohmann::ordered_json> cases;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return cases;
  std::string line;
  char buf[65536];
  while (fgets(buf, sizeof buf, pipe)) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      cases.push_back(nlohmann::ordered_json::parse(line));
      line.clear();
    }
  }
  EXPECT_EQ(pclose(pipe), 0) << "oracle.py failed (is python3-jinja2 installed?)";
  return cases;
}

bool has_option(const nlohmann::ordered_json& c, const char* name) {
  for (const auto& o : c["options"])
    if (o == name) return true;
  return false;
}

Result<std::string> render_case(const nlohmann::ordered_json& c) {
  Options options;
  options.trim_blocks = has_option(c, "trim_blocks");
  options.lstrip_blocks = has_option(c, "lstrip_blocks");
  options.keep_trailing_newline = has_option(c, "keep_trailing_newline");
  if (has_option(c, "strict")) options.undefined = UndefinedMode::kStrict;
  Environment env(options);
  std::unordered_map<std::string, std::string> sources;
  for (const auto& [k, v] : c["loader"].items()) sources[k] = v.get<std::string>();
  env.set_loader(std::make_shared<MapLoader>(std::move(sources)));
  STRATA_ASSIGN(Context context, Context::from_json(c["context"]));
  return env.render(c["template"].get<std::string>(), context, c["name"].get<std::string>());
}

TEST(JinjaDifferential, CorpusMatchesPythonJinja2ByteForByte) {
  std::vector<nlohmann::ordered_json> cases = oracle_cases();
  ASSERT_GE(cases.size(), 400u) << "the corpus must hold at least 400 templates";
  std::size_t errors_expected = 0, failures = 0;
  for (const auto& c : cases) {
    Result<std::string> ours = render_case(c);
    std::string name = c["name"];
    if (c.contains("error")) {
      ++errors_expected;
      if (ours.ok()) {
        ++failures;
        ADD_FAILURE() << name << ": jinja2 raised " << c["error"] << " (" << c["message"] << ") but we rendered '"
                      << *ours << "'\n  template: " << c["template"];
      }
      continue;
    }
    if (!ours.ok()) {
      ++failures;
      ADD_FAILURE() << name << ": we failed with '" << ours.error().to_string() << "', jinja2 rendered "
                    << c["out"].dump() << "\n  template: " << c["template"];
    } else if (*ours != c["out"].get<std::string>()) {
      ++failures;
      ADD_FAILURE() << name << ": output differs\n  jinja2: " << c["out"].dump() << "\n  ours:   "
                    << nlohmann::json(*ours).dump() << "\n  template: " << c["template"];
    }
  }
  std::printf("differential corpus: %zu templates (%zu where jinja2 raises), %zu mismatches\n", cases.size(),
              errors_expected, failures);
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace strata::jinja

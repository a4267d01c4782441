// `strata render FILE [--context JSON_FILE]`: prints a template's rendering — a tool for debugging
// macros, and what the Jinja differential tests compare against python3-jinja2.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "common/strings.h"
#include "jinja/environment.h"
#include "jinja/template.h"

namespace strata::cli {
namespace {

struct RenderOptions {
  std::string file;
  std::string context_file;
  bool trim_blocks = false;
  bool lstrip_blocks = false;
  bool strict = false;
};

Result<std::string> read_input(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kUsage, "cannot read template file '" + path + "'", {}, "check the path and permissions");
  return text;
}

Result<jinja::Context> read_context(const std::string& path) {
  if (path.empty()) return jinja::Context();
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kUsage, "cannot read context file '" + path + "'", {}, "check the path and permissions");
  nlohmann::ordered_json json;
  try {
    json = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    return Error(ErrorCode::kConfig, std::string("invalid JSON: ") + e.what(), SourceLocation{path, 0, 0},
                 "the context must be a JSON object such as {\"name\": \"value\"}");
  }
  auto context = jinja::Context::from_json(json);
  if (!context.ok())
    return Error(ErrorCode::kConfig, context.error().message(), SourceLocation{path, 0, 0},
                 "wrap the variables in a JSON object such as {\"name\": \"value\"}");
  return context;
}

Status render(const RenderOptions& options, std::ostream& out) {
  STRATA_ASSIGN(std::string source, read_input(options.file));
  STRATA_ASSIGN(jinja::Context context, read_context(options.context_file));
  jinja::Options env_options;
  env_options.trim_blocks = options.trim_blocks;
  env_options.lstrip_blocks = options.lstrip_blocks;
  if (options.strict) env_options.undefined = jinja::UndefinedMode::kStrict;
  jinja::Environment env(env_options);
  std::string folder = options.file == "-" ? "." : std::filesystem::path(options.file).parent_path().string();
  env.set_loader(std::make_shared<jinja::FileSystemLoader>(std::vector<std::string>{folder.empty() ? "." : folder}));
  STRATA_ASSIGN(auto tmpl, env.parse(source, options.file == "-" ? "<stdin>" : options.file));
  STRATA_ASSIGN(std::string text, tmpl->render(context));
  out << text;
  out.flush();
  return ok_status();
}

}  // namespace

void register_render(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<RenderOptions>();
  auto* cmd = app.add_subcommand("render", "Render a Jinja template with a JSON context (for debugging macros)");
  cmd->add_option("FILE", options->file, "Template file, or - to read standard input")->required();
  cmd->add_option("--context", options->context_file, "JSON file whose object gives the template's variables");
  cmd->add_flag("--trim-blocks", options->trim_blocks, "Remove the first newline after a block tag");
  cmd->add_flag("--lstrip-blocks", options->lstrip_blocks, "Strip whitespace before a block tag at line start");
  cmd->add_flag("--strict", options->strict, "Fail on undefined variables");
  bind_action(*cmd, context, [&context, options]() -> Status { return render(*options, context.out); });
}

}  // namespace strata::cli

// The parse-time render (Compiler::parse_render): config values written with Jinja, the nodes the
// static scan could not read exactly (their refs, sources and configs), generic tests whose macro
// calls config(), and descriptions.
#include <unordered_set>

#include "common/strings.h"
#include "transform/compiler_impl.h"
#include "transform/project.h"
#include "transform/static_parser.h"

namespace strata::transform {

using detail::kNoNode;
using detail::RenderState;

// `{{ test_x(model=get_where_subquery(ref('m')), column_name='c', values=[...]) }}`.
Result<std::string> Compiler::Impl::generic_test_text(size_t i) const {
  const Node& n = graph->node(i);
  const TestMetadata& meta = *n.test_metadata;
  std::string macro = (meta.namespace_.empty() ? "" : meta.namespace_ + ".") + "test_" + meta.name;
  std::string text = "{{ " + macro + "(";
  bool first = true;
  for (auto it = meta.kwargs.begin(); it != meta.kwargs.end(); ++it) {
    if (!first) text += ", ";
    first = false;
    text += it.key() + "=";
    const Json& v = it.value();
    if (it.key() == "model") {
      std::string m = v.get<std::string>();
      // "{{ get_where_subquery(ref('x')) }}" → the expression inside.
      text += std::string(trim(std::string_view(m).substr(2, m.size() - 4)));
    } else if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (it.key() == "column_name" && meta.quote_column) s = dialect->quote_identifier(s);
      if (starts_with(s, "ref(") || starts_with(s, "source(")) {
        text += s;
      } else {
        text += "'" + replace_all(replace_all(s, "\\", "\\\\"), "'", "\\'") + "'";
      }
    } else {
      text += "fromjson('" + replace_all(replace_all(v.dump(), "\\", "\\\\"), "'", "\\'") + "')";
    }
  }
  return text + ") }}";
}

Status Compiler::Impl::capture_generic_test_config(Node& n, size_t i) {
  STRATA_ASSIGN(std::string text, generic_test_text(i));
  RenderState state;
  state.node = i;
  state.parse_mode = true;
  state.options.execute = false;
  if (!render_text(text, i, state, node_file_path(graph->project(), n)).ok()) return ok_status();
  for (auto it = state.capture.config.begin(); it != state.capture.config.end(); ++it)
    if (!n.config_where.count(it.key())) n.config[it.key()] = it.value();
  return ok_status();
}

// dbt renders the configs of dbt_project.yml and property files too: `+schema: "{{ var('x') }}"`,
// `+materialized: "{{ 'table' if target.name == 'prod' else 'view' }}"`. Hooks stay as written
// (they are rendered when they run). A render giving True/False becomes a boolean, as dbt's
// native rendering does.
Status Compiler::Impl::render_config_values(Graph& graph) {
  auto has_jinja = [](const Json& v) {
    return v.is_string() &&
           (v.get_ref<const std::string&>().find("{{") != std::string::npos ||
            v.get_ref<const std::string&>().find("{%") != std::string::npos);
  };
  for (size_t i = 0; i < graph.size(); ++i) {
    Node& n = graph.mutable_node(i);
    // The config before the file's config() calls too: the parse-time render may restore from it.
    for (Json* config : {&n.config, &n.config_before_file}) {
      if (!config->is_object()) continue;
      for (auto it = config->begin(); it != config->end(); ++it) {
        if (it.key() == "pre-hook" || it.key() == "post-hook") continue;
        Json& value = *it;  // scalars only: tags are also kept in Node::tags
        if (!has_jinja(value)) continue;
        RenderState state;
        state.options.execute = false;
        STRATA_ASSIGN(std::string text, render_text(value.get<std::string>(), kNoNode, state,
                                                    "<config '" + it.key() + "' of " + n.unique_id + ">"));
        std::string_view t = trim(text);
        value = t == "True" ? Json(true) : t == "False" ? Json(false) : Json(std::string(t));
      }
    }
  }
  return ok_status();
}

namespace {

// The in-file config keys the static scan read take their value from before the file's configs
// were merged (or none), so that calls in a `{% if %}` not taken set nothing.
void reset_scanned_keys(Node& m, const Json& scanned) {
  for (auto it = scanned.begin(); it != scanned.end(); ++it) {
    const std::string key = normalize_config_key(it.key());
    auto before = m.config_before_file.find(key);
    if (before != m.config_before_file.end()) {
      m.config[key] = *before;
    } else {
      m.config.erase(key);
    }
    m.config_where.erase(key);
  }
}

// The names of the generic test macros ("test_x") whose body, or an adapter's implementation of
// it ("default__test_x"), calls config(): a test of one gets those configs at parse time (dbt
// renders tests while parsing), below its YAML and project ones.
std::unordered_set<std::string> test_macros_with_config(const Graph& graph) {
  std::unordered_set<std::string> out;
  for (const MacroDef& m : graph.project().macros) {
    if (m.macro_sql.find("config(") == std::string::npos) continue;
    const size_t dispatched = m.name.find("__test_");
    if (starts_with(m.name, "test_")) out.insert(m.name);
    else if (dispatched != std::string::npos) out.insert(m.name.substr(dispatched + 2));
  }
  return out;
}

}  // namespace

Status Compiler::parse_render(Graph& graph) {
  STRATA_TRY(impl_->render_config_values(graph));
  const std::unordered_set<std::string> configuring_tests = test_macros_with_config(graph);
  bool changed = false;
  for (size_t i = 0; i < graph.size(); ++i) {
    const Node& n = graph.node(i);
    if (n.is_test() && n.test_metadata && configuring_tests.count("test_" + n.test_metadata->name)) {
      STRATA_TRY(impl_->capture_generic_test_config(graph.mutable_node(i), i));
      continue;
    }
    if (n.is_test() || n.resource_type == ResourceType::kSource || n.resource_type == ResourceType::kSeed) continue;
    if (n.raw_code.find("{%") == std::string::npos && n.raw_code.find("{{") == std::string::npos) continue;
    StaticScan scan = static_scan(n.raw_code);
    if (scan.exact) continue;
    RenderState state;
    state.node = i;
    state.parse_mode = true;
    state.options.execute = false;
    auto out = impl_->render_text(n.raw_code, i, state, node_file_path(graph.project(), n));
    if (!out.ok()) return std::move(out).error();
    Node& m = graph.mutable_node(i);
    if (state.capture.refs != m.refs || state.capture.sources != m.sources) {
      m.refs = state.capture.refs;
      m.sources = state.capture.sources;
      add_foreign_key_dependencies(m);
      changed = true;
    }
    // Keys the static scan read keep the place it found; the others are the node's.
    ConfigOrigins rendered_where;
    for (auto it = scan.config.begin(); it != scan.config.end(); ++it) {
      auto origin = m.config_where.find(normalize_config_key(it.key()));
      if (origin != m.config_where.end()) rendered_where.insert(*origin);
    }
    if (!m.config_before_file.is_null()) {
      // The scan merged every config() call it saw, in branches taken or not: those keys start over
      // from before the file, and the render's calls (the branches taken) merge in whole.
      reset_scanned_keys(m, scan.config);
      merge_configs(m.config, m.config_where, state.capture.config, rendered_where, m.where);
    } else {
      merge_configs(m.config, m.config_where, configs_not_scanned(std::move(state.capture.config), scan.config),
                    rendered_where, m.where);
    }
  }
  // Descriptions are Jinja too: `{{ doc('name') }}`.
  for (size_t i = 0; i < graph.size(); ++i) {
    Node& m = graph.mutable_node(i);
    auto render_description = [&](std::string& text) -> Status {
      if (text.find("{{") == std::string::npos && text.find("{%") == std::string::npos) return ok_status();
      RenderState state;
      state.node = i;
      state.parse_mode = true;
      state.options.execute = false;
      STRATA_ASSIGN(text, impl_->render_text(text, i, state, m.patch_path.empty() ? m.where.file : m.patch_path));
      return ok_status();
    };
    STRATA_TRY(render_description(m.description));
    for (auto& c : m.columns) STRATA_TRY(render_description(c.description));
  }
  // Tags, meta and enabled set by the configs just rendered; a disabled node leaves the graph (before
  // its refs are linked), so the templates cached by node index start over.
  const size_t before = graph.size();
  STRATA_TRY(graph.apply_rendered_configs(changed));
  if (graph.size() != before) impl_->cache.assign(graph.size(), nullptr);
  return ok_status();
}

}  // namespace strata::transform

// Statements of the Jinja parser (see parser_impl.h): the template body, control structures,
// macros, imports and the host's custom tags.
#include "jinja/parser_impl.h"

namespace strata::jinja::detail {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) s += i + 1 == names.size() ? " or " : ", ";
    s += "'" + names[i] + "'";
  }
  return s;
}

// Parses until `{% name` with name in `ends` (left unconsumed) or the end of the template.
Result<Body> Parser::parse_body(const std::vector<std::string>& ends, const std::string& innermost) {
  DepthGuard guard(*this);
  STRATA_TRY(check_depth());
  Body body;
  while (true) {
    const Token& t = cur();
    if (t.type == Tok::kEof) {
      if (ends.empty()) return body;
      return error(t, "Unexpected end of template. Jinja was looking for the following tags: " + quoted_list(ends) +
                          ". The innermost block that needs to be closed is '" + innermost + "'.");
    }
    if (t.type == Tok::kText) {
      auto s = make_node<TextStmt>(t);
      s->text = t.value;
      program_->text_size += t.value.size();
      body.push_back(std::move(s));
      advance();
    } else if (t.type == Tok::kVarBegin) {
      advance();
      auto s = make_node<OutputStmt>(t);
      STRATA_ASSIGN(s->expr, parse_tuple(true, {}, false));
      if (cur().type != Tok::kVarEnd)
        return error(cur(), "expected token 'end of print statement', got '" + describe(cur()) + "'");
      advance();
      body.push_back(std::move(s));
    } else if (t.type == Tok::kBlockBegin) {
      const Token& tag = peek();
      if (tag.type != Tok::kName) return error(tag, "tag name expected");
      for (const auto& e : ends)
        if (tag.value == e) return body;
      advance();
      STRATA_ASSIGN(StmtPtr s, parse_statement(ends, innermost));
      if (s) body.push_back(std::move(s));
    } else {
      return unexpected();
    }
  }
}

// Consumes `{% name` (already known to be there) and returns the name.
std::string Parser::take_end_tag() {
  advance();  // {%
  std::string n = cur().value;
  advance();
  return n;
}

Result<StmtPtr> Parser::parse_statement(const std::vector<std::string>& ends, const std::string& innermost) {
  const Token& t = cur();
  const std::string& kw = t.value;
  if (kw == "if") return parse_if();
  if (kw == "for") return parse_for();
  if (kw == "set") return parse_set();
  if (kw == "macro") return parse_macro();
  if (kw == "call") return parse_call_block();
  if (kw == "do") {
    advance();
    auto s = make_node<DoStmt>(t);
    STRATA_ASSIGN(s->expr, parse_tuple(true, {}, false));
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }
  if (kw == "filter") return parse_filter_block();
  if (kw == "with") return parse_with();
  if (kw == "include") return parse_include();
  if (kw == "import" || kw == "from") return parse_import();
  if (kw == "break" || kw == "continue") {
    if (loop_depth_ == 0) return error(t, "'" + kw + "' outside of a loop");
    advance();
    auto s = make_node<LoopControlStmt>(t);
    s->kind = kw == "break" ? LoopControl::kBreak : LoopControl::kContinue;
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }
  if (kw == "raw") {
    advance();
    STRATA_TRY(expect_block_end());
    auto s = make_node<TextStmt>(t);
    if (cur().type == Tok::kText) {
      s->text = cur().value;
      advance();
    }
    return StmtPtr(std::move(s));
  }
  if (kw == "block") return parse_block();
  if (const CustomTag* tag = find_tag(kw)) return parse_custom(*tag);
  std::string message = "Encountered unknown tag '" + kw + "'.";
  if (!ends.empty())
    message += " Jinja was looking for the following tags: " + quoted_list(ends) +
               ". The innermost block that needs to be closed is '" + innermost + "'.";
  return error(t, message);
}

const CustomTag* Parser::find_tag(const std::string& kw) const {
  auto it = env_->tags.find(kw);
  return it == env_->tags.end() ? nullptr : &it->second;
}

Result<StmtPtr> Parser::parse_if() {
  auto s = make_node<IfStmt>(cur());
  advance();
  while (true) {
    STRATA_ASSIGN(ExprPtr cond, parse_tuple(false, {}, false));
    STRATA_TRY(expect_block_end());
    STRATA_ASSIGN(Body body, parse_body({"elif", "else", "endif"}, "if"));
    s->branches.emplace_back(std::move(cond), std::move(body));
    std::string end = take_end_tag();
    if (end == "elif") continue;
    if (end == "else") {
      STRATA_TRY(expect_block_end());
      STRATA_ASSIGN(s->else_body, parse_body({"endif"}, "if"));
      take_end_tag();
    }
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }
}

Result<StmtPtr> Parser::parse_for() {
  ++for_nesting_;
  auto result = parse_for_statement();
  --for_nesting_;
  return result;
}

Result<StmtPtr> Parser::parse_for_statement() {
  auto s = make_node<ForStmt>(cur());
  advance();
  STRATA_ASSIGN(s->target, parse_target(false));
  if (!skip_name("in")) return error(cur(), "expected token 'in', got '" + describe(cur()) + "'");
  STRATA_ASSIGN(s->iter, parse_tuple(false, {"recursive"}, false));
  if (skip_name("if")) {
    STRATA_ASSIGN(s->filter, parse_expression(true));
  }
  if (skip_name("recursive")) s->recursive = true;
  STRATA_TRY(expect_block_end());
  ++loop_depth_;
  ++block_depth_;
  // Inside the body, `loop` and a plain target are at slots 0 and 1 of the loop scope.
  const std::string* saved_target = loop_target_;
  loop_target_ = (!s->target.is_tuple && s->target.attr.empty() && s->target.name != "loop") ? &s->target.name
                                                                                             : nullptr;
  auto body = parse_body({"endfor", "else"}, "for");
  loop_target_ = saved_target;
  --block_depth_;
  --loop_depth_;
  if (!body.ok()) return std::move(body).error();
  s->body = std::move(*body);
  if (take_end_tag() == "else") {
    STRATA_TRY(expect_block_end());
    int saved = loop_depth_;
    loop_depth_ = 0;
    auto else_body = parse_body({"endfor"}, "for");
    loop_depth_ = saved;
    if (!else_body.ok()) return std::move(else_body).error();
    s->else_body = std::move(*else_body);
    take_end_tag();
  }
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

// A name, `ns.attr` (when allowed), or a tuple of targets (parenthesized or bare).
Result<Target> Parser::parse_target(bool allow_attr) {
  Target first;
  STRATA_ASSIGN(first, parse_single_target(allow_attr));
  if (!is_op(",")) return first;
  Target tuple;
  tuple.is_tuple = true;
  tuple.pos = first.pos;
  tuple.items.push_back(std::move(first));
  while (skip_op(",")) {
    if (cur().type != Tok::kName && !is_op("(")) break;
    STRATA_ASSIGN(Target next, parse_single_target(false));
    tuple.items.push_back(std::move(next));
  }
  return tuple;
}

Result<Target> Parser::parse_single_target(bool allow_attr) {
  DepthGuard guard(*this);
  STRATA_TRY(check_depth());
  Target t;
  t.pos = Pos{cur().line, cur().column};
  if (skip_op("(")) {
    STRATA_ASSIGN(t, parse_target(false));
    if (!t.is_tuple) {
      Target wrapped = std::move(t);
      t = std::move(wrapped);
    }
    STRATA_TRY(expect_op(")"));
    return t;
  }
  if (cur().type != Tok::kName) return error(cur(), "can't assign to '" + describe(cur()) + "'");
  t.name = cur().value;
  // Jinja2: anywhere inside a for statement (target, body, else), `loop` cannot be assigned.
  if (for_nesting_ > 0 && t.name == "loop" && !(allow_attr && peek().type == Tok::kOp && peek().value == "."))
    return error(cur(), "Can't assign to special loop variable in for-loop target");
  t.hash = std::hash<std::string_view>{}(t.name);
  if (t.name == "true" || t.name == "false" || t.name == "none" || t.name == "True" || t.name == "False" ||
      t.name == "None")
    return error(cur(), "Can't assign to special constant '" + t.name + "'.");
  advance();
  if (allow_attr && skip_op(".")) {
    STRATA_ASSIGN(t.attr, expect_name());
  }
  return t;
}

Result<StmtPtr> Parser::parse_set() {
  const Token& at = cur();
  advance();
  STRATA_ASSIGN(Target target, parse_target(true));
  if (skip_op("=")) {
    auto s = make_node<SetStmt>(at);
    s->target = std::move(target);
    STRATA_ASSIGN(s->value, parse_tuple(true, {}, false));
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }
  auto s = make_node<SetBlockStmt>(at);
  s->target = std::move(target);
  STRATA_ASSIGN(s->filters, parse_filter_chain(false));
  STRATA_TRY(expect_block_end());
  STRATA_ASSIGN(s->body, parse_body({"endset"}, "set"));
  take_end_tag();
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

// `name(args)|name2` chain for {% filter %} and {% set x | f %}.
Result<std::vector<std::unique_ptr<FilterExpr>>> Parser::parse_filter_chain(bool require_first) {
  std::vector<std::unique_ptr<FilterExpr>> chain;
  bool first = require_first;
  while (first || skip_op("|")) {
    first = false;
    STRATA_ASSIGN(auto f, parse_filter_name_args());
    chain.push_back(std::move(f));
  }
  return chain;
}

Result<std::unique_ptr<FilterExpr>> Parser::parse_filter_name_args() {
  auto f = make_node<FilterExpr>(cur());
  STRATA_ASSIGN(f->name, expect_name());
  while (is_op(".") && peek().type == Tok::kName) {
    advance();
    f->name += "." + cur().value;
    advance();
  }
  if (is_op("(")) {
    STRATA_ASSIGN(f->args, parse_call_args());
  }
  auto it = env_->filters.find(f->name);
  if (it != env_->filters.end()) f->fn = &it->second;
  f->keeps_undefined = f->name == "default" || f->name == "d";
  f->args_pure = args_pure(f->args);
  f->inline_default = f->fn && f->keeps_undefined && is_builtin_default_filter(*f->fn) && f->args_pure &&
                      f->args.positional.size() <= 1 && f->args.keyword.empty();
  return f;
}

Status Parser::parse_macro_params(MacroDef& def) {
  STRATA_TRY(expect_op("("));
  while (!is_op(")")) {
    if (!def.params.empty()) STRATA_TRY(expect_op(","));
    if (is_op(")")) break;
    MacroParam p;
    STRATA_ASSIGN(p.name, expect_name());
    p.hash = std::hash<std::string_view>{}(p.name);
    if (skip_op("=")) {
      STRATA_ASSIGN(p.default_value, parse_expression(true));
    } else if (!def.params.empty() && def.params.back().default_value) {
      return error(cur(), "non-default argument follows default argument");
    }
    def.params.push_back(std::move(p));
  }
  advance();
  return ok_status();
}

// Scans a macro body for uses of caller/varargs/kwargs (names looked up at runtime anyway;
// the flags only decide whether extra arguments are accepted).
void Parser::scan_special_names(MacroDef& def, std::size_t from, std::size_t to) const {
  for (std::size_t k = from; k < to && k < toks_.size(); ++k) {
    if (toks_[k].type != Tok::kName) continue;
    if (toks_[k].value == "caller") def.uses_caller = true;
    if (toks_[k].value == "varargs") def.uses_varargs = true;
    if (toks_[k].value == "kwargs") def.uses_kwargs = true;
  }
}

Result<std::shared_ptr<MacroDef>> Parser::parse_macro_rest(std::string name, const Token& at, bool params_required) {
  auto def = std::make_shared<MacroDef>();
  def->name = std::move(name);
  def->pos = Pos{at.line, at.column};
  if (params_required || is_op("(")) STRATA_TRY(parse_macro_params(*def));
  return def;
}

Status Parser::parse_macro_body(MacroDef& def, const std::string& end_tag, const std::string& innermost) {
  STRATA_TRY(expect_block_end());
  std::size_t body_start = i_;
  int saved = loop_depth_;
  loop_depth_ = 0;
  ++block_depth_;
  auto body = parse_body({end_tag}, innermost);
  --block_depth_;
  loop_depth_ = saved;
  if (!body.ok()) return std::move(body).error();
  def.body = std::move(*body);
  scan_special_names(def, body_start, i_);
  take_end_tag();
  if (cur().type == Tok::kName) advance();  // `{% endmacro name %}`
  return expect_block_end();
}

Result<StmtPtr> Parser::parse_macro() {
  const Token& at = cur();
  advance();
  STRATA_ASSIGN(std::string name, expect_name());
  STRATA_ASSIGN(auto def, parse_macro_rest(name, at, true));
  STRATA_TRY(parse_macro_body(*def, "endmacro", "macro"));
  return macro_statement(at, std::move(def));
}

StmtPtr Parser::macro_statement(const Token& at, std::shared_ptr<MacroDef> def) {
  if (block_depth_ == 0) program_->macros.push_back(def);
  auto s = make_node<MacroStmt>(at);
  s->def = std::move(def);
  return s;
}

Result<StmtPtr> Parser::parse_call_block() {
  const Token& at = cur();
  advance();
  auto s = make_node<CallBlockStmt>(at);
  s->caller = std::make_shared<MacroDef>();
  s->caller->name = "caller";
  s->caller->pos = Pos{at.line, at.column};
  if (is_op("(")) STRATA_TRY(parse_macro_params(*s->caller));
  STRATA_ASSIGN(ExprPtr call, parse_expression(true));
  auto* as_call = dynamic_cast<Call*>(call.get());
  if (!as_call) return error(at, "expected call");
  s->call.reset(static_cast<Call*>(call.release()));
  STRATA_TRY(parse_macro_body(*s->caller, "endcall", "call"));
  return StmtPtr(std::move(s));
}

Result<StmtPtr> Parser::parse_filter_block() {
  auto s = make_node<FilterBlockStmt>(cur());
  advance();
  STRATA_ASSIGN(s->filters, parse_filter_chain(true));
  STRATA_TRY(expect_block_end());
  STRATA_ASSIGN(s->body, parse_body({"endfilter"}, "filter"));
  take_end_tag();
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

Result<StmtPtr> Parser::parse_with() {
  auto s = make_node<WithStmt>(cur());
  advance();
  while (cur().type != Tok::kBlockEnd) {
    if (!s->assignments.empty()) STRATA_TRY(expect_op(","));
    STRATA_ASSIGN(Target target, parse_target(false));
    STRATA_TRY(expect_op("="));
    STRATA_ASSIGN(ExprPtr value, parse_expression(true));
    s->assignments.emplace_back(std::move(target), std::move(value));
  }
  STRATA_TRY(expect_block_end());
  ++block_depth_;
  auto body = parse_body({"endwith"}, "with");
  --block_depth_;
  if (!body.ok()) return std::move(body).error();
  s->body = std::move(*body);
  take_end_tag();
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

// `with context` / `without context`; returns the default when absent.
bool Parser::parse_context_modifier(bool fallback) {
  if ((is_name("with") || is_name("without")) && peek().type == Tok::kName && peek().value == "context") {
    bool with = is_name("with");
    advance();
    advance();
    return with;
  }
  return fallback;
}

Result<StmtPtr> Parser::parse_include() {
  auto s = make_node<IncludeStmt>(cur());
  advance();
  STRATA_ASSIGN(s->name, parse_expression(true));
  if (is_name("ignore") && peek().type == Tok::kName && peek().value == "missing") {
    advance();
    advance();
    s->ignore_missing = true;
  }
  s->with_context = parse_context_modifier(true);
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

Result<StmtPtr> Parser::parse_import() {
  bool from = is_name("from");
  auto s = make_node<ImportStmt>(cur());
  advance();
  STRATA_ASSIGN(s->name, parse_expression(true));
  if (!from) {
    if (!skip_name("as")) return error(cur(), "expected token 'as', got '" + describe(cur()) + "'");
    STRATA_ASSIGN(s->alias, expect_name());
  } else {
    if (!skip_name("import")) return error(cur(), "expected token 'import', got '" + describe(cur()) + "'");
    while (true) {
      if ((is_name("with") || is_name("without")) && peek().type == Tok::kName && peek().value == "context") break;
      if (!s->names.empty()) {
        if (!skip_op(",")) break;
        if (cur().type != Tok::kName) break;
      }
      STRATA_ASSIGN(std::string n, expect_name());
      if (!n.empty() && n[0] == '_') return error(cur(), "names starting with an underline can not be imported");
      std::string alias = n;
      if (skip_name("as")) {
        STRATA_ASSIGN(alias, expect_name());
      }
      s->names.emplace_back(n, alias);
    }
  }
  s->with_context = parse_context_modifier(false);
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

Result<StmtPtr> Parser::parse_block() {
  auto s = make_node<BlockStmt>(cur());
  advance();
  STRATA_ASSIGN(std::string name, expect_name());
  while (skip_name("scoped") || skip_name("required")) {}
  STRATA_TRY(expect_block_end());
  STRATA_ASSIGN(s->body, parse_body({"endblock"}, "block"));
  take_end_tag();
  if (cur().type == Tok::kName) advance();
  STRATA_TRY(expect_block_end());
  return StmtPtr(std::move(s));
}

// ---- host tags
Result<StmtPtr> Parser::parse_custom(const CustomTag& tag) {
  const Token& at = cur();
  advance();
  CustomBlock block;
  block.header.tag = tag.name;
  block.header.where = SourceLocation{name_, at.line, at.column};
  STRATA_ASSIGN(block.header.name, expect_name());
  std::shared_ptr<MacroDef> def;
  if (tag.kind == CustomTag::Kind::kMacro) {
    STRATA_ASSIGN(def, parse_macro_rest(block.header.name, at, false));
    for (const auto& p : def->params) block.header.params.push_back(p.name);
  }
  while (skip_op(",")) STRATA_TRY(parse_tag_arg(block.header));
  std::string end_tag = "end" + tag.name;
  if (tag.kind == CustomTag::Kind::kMacro) {
    if (tag.macro_name) {
      auto name = tag.macro_name(block.header);
      if (!name.ok()) return Error(std::move(name).error()).at(block.header.where);
      def->name = *name;
    } else {
      def->name = tag.macro_prefix + block.header.name;
    }
    block.macro_name = def->name;
    std::size_t body_offset = cur().end_offset;
    STRATA_TRY(parse_macro_body(*def, end_tag, tag.name));
    block.raw_body = raw_between(body_offset);
    program_->custom_blocks.push_back(std::move(block));
    return macro_statement(at, std::move(def));
  }
  STRATA_TRY(expect_block_end());
  std::size_t body_offset = toks_[i_ - 1].end_offset;
  if (tag.kind == CustomTag::Kind::kRawBody) {
    if (cur().type == Tok::kText) {
      block.raw_body = cur().value;
      advance();
    }
  } else {
    ++block_depth_;
    auto saved = std::move(program_);
    program_ = std::make_unique<Program>();
    auto body = parse_body({end_tag}, tag.name);
    auto sub = std::move(program_);
    program_ = std::move(saved);
    --block_depth_;
    if (!body.ok()) return std::move(body).error();
    sub->body = std::move(*body);
    block.raw_body = raw_between(body_offset);
    block.body = std::make_shared<Template>(env_, name_, std::move(sub));
  }
  if (!(cur().type == Tok::kBlockBegin && peek().type == Tok::kName && peek().value == end_tag))
    return error(cur(), "Unexpected end of template. Jinja was looking for the following tags: '" + end_tag +
                            "'. The innermost block that needs to be closed is '" + tag.name + "'.");
  take_end_tag();
  STRATA_TRY(expect_block_end());
  auto s = make_node<CustomBodyStmt>(at);
  s->index = program_->custom_blocks.size();
  program_->custom_blocks.push_back(std::move(block));
  return StmtPtr(std::move(s));
}

// The source between body_offset and the `{%` of the end tag just consumed.
std::string Parser::raw_between(std::size_t body_offset) const {
  std::size_t k = i_;
  while (k > 0 && toks_[k].type != Tok::kBlockBegin) --k;
  std::size_t end = toks_[k].offset;
  if (end < body_offset || end > source_.size()) return "";
  return std::string(source_.substr(body_offset, end - body_offset));
}

Status Parser::parse_tag_arg(TagHeader& header) {
  if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().value == "=") {
    std::string key = cur().value;
    advance();
    advance();
    STRATA_ASSIGN(Value v, parse_constant());
    header.kwargs.emplace_back(std::move(key), std::move(v));
    return ok_status();
  }
  STRATA_ASSIGN(Value v, parse_constant());
  header.args.push_back(std::move(v));
  return ok_status();
}

// A constant expression (literal/list/dict) or a bare name (its string).
Result<Value> Parser::parse_constant() {
  if (cur().type == Tok::kName && (peek().type == Tok::kBlockEnd || (peek().type == Tok::kOp && peek().value == ","))) {
    std::string n = cur().value;
    advance();
    if (n == "true" || n == "True") return Value(true);
    if (n == "false" || n == "False") return Value(false);
    if (n == "none" || n == "None") return Value::none();
    return Value(n);
  }
  const Token& at = cur();
  STRATA_ASSIGN(ExprPtr e, parse_expression(true));
  return fold_constant(*e, at);
}

Result<Value> Parser::fold_constant(const Expr& e, const Token& at) const {
  if (const Value* v = e.constant()) return *v;
  if (const auto* list = dynamic_cast<const ListExpr*>(&e)) {
    ValueList items;
    for (const auto& item : list->items) {
      STRATA_ASSIGN(Value v, fold_constant(*item, at));
      items.push_back(std::move(v));
    }
    return list->tuple ? Value::tuple(std::move(items)) : Value(std::move(items));
  }
  if (const auto* dict = dynamic_cast<const DictExpr*>(&e)) {
    Dict d;
    for (const auto& [k, v] : dict->items) {
      STRATA_ASSIGN(Value key, fold_constant(*k, at));
      STRATA_ASSIGN(Value value, fold_constant(*v, at));
      d.set(std::move(key), std::move(value));
    }
    return Value(std::move(d));
  }
  return error(at, "tag arguments must be constants");
}

Result<std::unique_ptr<Program>> parse_program(std::vector<Token> tokens, std::string_view source,
                                               const std::shared_ptr<EnvironmentState>& env, const std::string& name) {
  Parser parser(std::move(tokens), source, env, name);
  return parser.run();
}

}  // namespace strata::jinja::detail

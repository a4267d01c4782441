#include "jinja/parser.h"

#include <charconv>
#include <cstdlib>

#include "jinja/template.h"

namespace strata::jinja::detail {
namespace {

template <typename T>
std::unique_ptr<T> node(const Token& at) {
  auto n = std::make_unique<T>();
  n->pos = Pos{at.line, at.column};
  return n;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) s += i + 1 == names.size() ? " or " : ", ";
    s += "'" + names[i] + "'";
  }
  return s;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view source, const std::shared_ptr<EnvironmentState>& env,
         const std::string& name)
      : toks_(std::move(tokens)), source_(source), env_(env), name_(name) {}

  Result<std::unique_ptr<Program>> run() {
    program_ = std::make_unique<Program>();
    STRATA_ASSIGN(Body body, parse_body({}, ""));
    program_->body = std::move(body);
    return std::move(program_);
  }

 private:
  // ---- token helpers
  const Token& cur() const { return toks_[i_]; }
  const Token& peek(std::size_t n = 1) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
  void advance() { if (i_ + 1 < toks_.size()) ++i_; }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().value == n; }
  bool skip_op(std::string_view op) { if (is_op(op)) { advance(); return true; } return false; }
  bool skip_name(std::string_view n) { if (is_name(n)) { advance(); return true; } return false; }

  Error error(const Token& at, std::string message) const {
    return Error(ErrorCode::kConfig, std::move(message), SourceLocation{name_, at.line, at.column});
  }
  Error unexpected() const {
    if (cur().type == Tok::kEof) return error(cur(), "unexpected end of template");
    return error(cur(), "unexpected '" + describe(cur()) + "'");
  }
  Status expect_op(std::string_view op) {
    if (skip_op(op)) return ok_status();
    return error(cur(), "expected token '" + std::string(op) + "', got '" + describe(cur()) + "'");
  }
  Result<std::string> expect_name() {
    if (cur().type != Tok::kName)
      return error(cur(), "expected token 'name', got '" + describe(cur()) + "'");
    std::string n = cur().value;
    advance();
    return n;
  }
  Status expect_block_end() {
    if (cur().type == Tok::kBlockEnd) { advance(); return ok_status(); }
    return error(cur(), "expected token 'end of statement block', got '" + describe(cur()) + "'");
  }

  // Depth guard: every recursive entry point holds one.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) { ++p.depth_; }
    ~DepthGuard() { --p.depth_; }
  };
  Status check_depth() const {
    if (depth_ > env_->options.max_depth) return error(cur(), "template nesting too deep");
    return ok_status();
  }

  // ---- statements
  // Parses until `{% name` with name in `ends` (left unconsumed) or the end of the template.
  Result<Body> parse_body(const std::vector<std::string>& ends, const std::string& innermost) {
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
        auto s = node<TextStmt>(t);
        s->text = t.value;
        program_->text_size += t.value.size();
        body.push_back(std::move(s));
        advance();
      } else if (t.type == Tok::kVarBegin) {
        advance();
        auto s = node<OutputStmt>(t);
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
  std::string take_end_tag() {
    advance();  // {%
    std::string n = cur().value;
    advance();
    return n;
  }

  Result<StmtPtr> parse_statement(const std::vector<std::string>& ends, const std::string& innermost) {
    const Token& t = cur();
    const std::string& kw = t.value;
    if (kw == "if") return parse_if();
    if (kw == "for") return parse_for();
    if (kw == "set") return parse_set();
    if (kw == "macro") return parse_macro();
    if (kw == "call") return parse_call_block();
    if (kw == "do") {
      advance();
      auto s = node<DoStmt>(t);
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
      auto s = node<LoopControlStmt>(t);
      s->kind = kw == "break" ? LoopControl::kBreak : LoopControl::kContinue;
      STRATA_TRY(expect_block_end());
      return StmtPtr(std::move(s));
    }
    if (kw == "raw") {
      advance();
      STRATA_TRY(expect_block_end());
      auto s = node<TextStmt>(t);
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

  const CustomTag* find_tag(const std::string& kw) const {
    auto it = env_->tags.find(kw);
    return it == env_->tags.end() ? nullptr : &it->second;
  }

  Result<StmtPtr> parse_if() {
    auto s = node<IfStmt>(cur());
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

  Result<StmtPtr> parse_for() {
    ++for_nesting_;
    auto result = parse_for_statement();
    --for_nesting_;
    return result;
  }

  Result<StmtPtr> parse_for_statement() {
    auto s = node<ForStmt>(cur());
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
  Result<Target> parse_target(bool allow_attr) {
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
  Result<Target> parse_single_target(bool allow_attr) {
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

  Result<StmtPtr> parse_set() {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(Target target, parse_target(true));
    if (skip_op("=")) {
      auto s = node<SetStmt>(at);
      s->target = std::move(target);
      STRATA_ASSIGN(s->value, parse_tuple(true, {}, false));
      STRATA_TRY(expect_block_end());
      return StmtPtr(std::move(s));
    }
    auto s = node<SetBlockStmt>(at);
    s->target = std::move(target);
    STRATA_ASSIGN(s->filters, parse_filter_chain(false));
    STRATA_TRY(expect_block_end());
    STRATA_ASSIGN(s->body, parse_body({"endset"}, "set"));
    take_end_tag();
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }

  // `name(args)|name2` chain for {% filter %} and {% set x | f %}.
  Result<std::vector<std::unique_ptr<FilterExpr>>> parse_filter_chain(bool require_first) {
    std::vector<std::unique_ptr<FilterExpr>> chain;
    bool first = require_first;
    while (first || skip_op("|")) {
      first = false;
      STRATA_ASSIGN(auto f, parse_filter_name_args());
      chain.push_back(std::move(f));
    }
    return chain;
  }

  Result<std::unique_ptr<FilterExpr>> parse_filter_name_args() {
    auto f = node<FilterExpr>(cur());
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

  Status parse_macro_params(MacroDef& def) {
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
  void scan_special_names(MacroDef& def, std::size_t from, std::size_t to) const {
    for (std::size_t k = from; k < to && k < toks_.size(); ++k) {
      if (toks_[k].type != Tok::kName) continue;
      if (toks_[k].value == "caller") def.uses_caller = true;
      if (toks_[k].value == "varargs") def.uses_varargs = true;
      if (toks_[k].value == "kwargs") def.uses_kwargs = true;
    }
  }

  Result<std::shared_ptr<MacroDef>> parse_macro_rest(std::string name, const Token& at, bool params_required) {
    auto def = std::make_shared<MacroDef>();
    def->name = std::move(name);
    def->pos = Pos{at.line, at.column};
    if (params_required || is_op("(")) STRATA_TRY(parse_macro_params(*def));
    return def;
  }

  Status parse_macro_body(MacroDef& def, const std::string& end_tag, const std::string& innermost) {
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

  Result<StmtPtr> parse_macro() {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(std::string name, expect_name());
    STRATA_ASSIGN(auto def, parse_macro_rest(name, at, true));
    STRATA_TRY(parse_macro_body(*def, "endmacro", "macro"));
    return macro_statement(at, std::move(def));
  }

  StmtPtr macro_statement(const Token& at, std::shared_ptr<MacroDef> def) {
    if (block_depth_ == 0) program_->macros.push_back(def);
    auto s = node<MacroStmt>(at);
    s->def = std::move(def);
    return s;
  }

  Result<StmtPtr> parse_call_block() {
    const Token& at = cur();
    advance();
    auto s = node<CallBlockStmt>(at);
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

  Result<StmtPtr> parse_filter_block() {
    auto s = node<FilterBlockStmt>(cur());
    advance();
    STRATA_ASSIGN(s->filters, parse_filter_chain(true));
    STRATA_TRY(expect_block_end());
    STRATA_ASSIGN(s->body, parse_body({"endfilter"}, "filter"));
    take_end_tag();
    STRATA_TRY(expect_block_end());
    return StmtPtr(std::move(s));
  }

  Result<StmtPtr> parse_with() {
    auto s = node<WithStmt>(cur());
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
  bool parse_context_modifier(bool fallback) {
    if ((is_name("with") || is_name("without")) && peek().type == Tok::kName && peek().value == "context") {
      bool with = is_name("with");
      advance();
      advance();
      return with;
    }
    return fallback;
  }

  Result<StmtPtr> parse_include() {
    auto s = node<IncludeStmt>(cur());
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

  Result<StmtPtr> parse_import() {
    bool from = is_name("from");
    auto s = node<ImportStmt>(cur());
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

  Result<StmtPtr> parse_block() {
    auto s = node<BlockStmt>(cur());
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
  Result<StmtPtr> parse_custom(const CustomTag& tag) {
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
    auto s = node<CustomBodyStmt>(at);
    s->index = program_->custom_blocks.size();
    program_->custom_blocks.push_back(std::move(block));
    return StmtPtr(std::move(s));
  }

  // The source between body_offset and the `{%` of the end tag just consumed.
  std::string raw_between(std::size_t body_offset) const {
    std::size_t k = i_;
    while (k > 0 && toks_[k].type != Tok::kBlockBegin) --k;
    std::size_t end = toks_[k].offset;
    if (end < body_offset || end > source_.size()) return "";
    return std::string(source_.substr(body_offset, end - body_offset));
  }

  Status parse_tag_arg(TagHeader& header) {
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
  Result<Value> parse_constant() {
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
  Result<Value> fold_constant(const Expr& e, const Token& at) const {
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

  // ---- expressions
  Result<ExprPtr> parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    STRATA_TRY(check_depth());
    if (!with_condexpr) return parse_or();
    const Token& at = cur();
    STRATA_ASSIGN(ExprPtr expr, parse_or());
    while (skip_name("if")) {
      auto c = node<CondExpr>(at);
      c->yes = std::move(expr);
      STRATA_ASSIGN(c->test, parse_or());
      if (skip_name("else")) {
        STRATA_ASSIGN(c->no, parse_expression(true));
      }
      expr = std::move(c);
    }
    return expr;
  }

  static constexpr int kMaxExprDepth = 1000;
  // Sets parent's height from its children; an error past kMaxExprDepth.
  Status deepen(Expr& parent, std::initializer_list<const Expr*> children) const {
    for (const Expr* c : children)
      if (c) parent.depth = std::max(parent.depth, c->depth + 1);
    if (parent.depth > kMaxExprDepth) return error(cur(), "expression too deeply nested");
    return ok_status();
  }

  Result<ExprPtr> binary(BinOp op, ExprPtr left, ExprPtr right, const Token& at) {
    auto b = node<Binary>(at);
    STRATA_TRY(deepen(*b, {left.get(), right.get()}));
    b->op = op;
    b->left = std::move(left);
    b->right = std::move(right);
    return ExprPtr(std::move(b));
  }

  Result<ExprPtr> parse_or() {
    STRATA_ASSIGN(ExprPtr left, parse_and());
    while (is_name("or")) {
      const Token& at = cur();
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_and());
      STRATA_ASSIGN(left, binary(BinOp::kOr, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_and() {
    STRATA_ASSIGN(ExprPtr left, parse_not());
    while (is_name("and")) {
      const Token& at = cur();
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_not());
      STRATA_ASSIGN(left, binary(BinOp::kAnd, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      STRATA_TRY(check_depth());
      auto u = node<Unary>(cur());
      advance();
      u->op = UnaryOp::kNot;
      STRATA_ASSIGN(u->operand, parse_not());
      return ExprPtr(std::move(u));
    }
    return parse_compare();
  }
  Result<ExprPtr> parse_compare() {
    const Token& at = cur();
    STRATA_ASSIGN(ExprPtr first, parse_math1());
    std::vector<std::pair<CmpOp, ExprPtr>> rest;
    while (true) {
      CmpOp op;
      if (cur().type == Tok::kOp && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                     cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
        const std::string& v = cur().value;
        op = v == "==" ? CmpOp::kEq : v == "!=" ? CmpOp::kNe : v == "<" ? CmpOp::kLt
             : v == "<=" ? CmpOp::kLe : v == ">" ? CmpOp::kGt : CmpOp::kGe;
        advance();
      } else if (is_name("in")) {
        op = CmpOp::kIn;
        advance();
      } else if (is_name("not") && peek().type == Tok::kName && peek().value == "in") {
        op = CmpOp::kNotIn;
        advance();
        advance();
      } else {
        break;
      }
      STRATA_ASSIGN(ExprPtr right, parse_math1());
      rest.emplace_back(op, std::move(right));
    }
    if (rest.empty()) return first;
    auto c = node<Compare>(at);
    c->first = std::move(first);
    c->rest = std::move(rest);
    return ExprPtr(std::move(c));
  }
  Result<ExprPtr> parse_math1() {
    STRATA_ASSIGN(ExprPtr left, parse_concat());
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      BinOp op = cur().value == "+" ? BinOp::kAdd : BinOp::kSub;
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_concat());
      STRATA_ASSIGN(left, binary(op, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_concat() {
    STRATA_ASSIGN(ExprPtr left, parse_math2());
    while (is_op("~")) {
      const Token& at = cur();
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_math2());
      STRATA_ASSIGN(left, binary(BinOp::kConcat, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_math2() {
    STRATA_ASSIGN(ExprPtr left, parse_pow());
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      const std::string& v = cur().value;
      BinOp op = v == "*" ? BinOp::kMul : v == "/" ? BinOp::kDiv : v == "//" ? BinOp::kFloorDiv : BinOp::kMod;
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_pow());
      STRATA_ASSIGN(left, binary(op, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_pow() {
    STRATA_ASSIGN(ExprPtr left, parse_unary(true));
    while (is_op("**")) {
      const Token& at = cur();
      advance();
      STRATA_ASSIGN(ExprPtr right, parse_unary(true));
      STRATA_ASSIGN(left, binary(BinOp::kPow, std::move(left), std::move(right), at));
    }
    return left;
  }
  Result<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    STRATA_TRY(check_depth());
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      auto u = node<Unary>(cur());
      u->op = is_op("-") ? UnaryOp::kNeg : UnaryOp::kPos;
      advance();
      STRATA_ASSIGN(u->operand, parse_unary(false));
      STRATA_TRY(deepen(*u, {u->operand.get()}));
      n = std::move(u);
    } else {
      STRATA_ASSIGN(n, parse_primary());
    }
    STRATA_ASSIGN(n, parse_postfix(std::move(n)));
    if (with_filter) {
      STRATA_ASSIGN(n, parse_filter_expr(std::move(n)));
    }
    return n;
  }

  Result<ExprPtr> parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case Tok::kName: {
        const std::string& v = t.value;
        if (v == "true" || v == "True" || v == "false" || v == "False") return literal(t, Value(v[0] == 't' || v[0] == 'T'));
        if (v == "none" || v == "None") return literal(t, Value::none());
        auto n = node<Name>(t);
        n->name = v;
        n->hash = std::hash<std::string_view>{}(v);
        if (loop_target_) n->slot_hint = v == "loop" ? 0 : v == *loop_target_ ? 1 : -1;
        n->undefined_value = Value::undefined("'" + v + "' is undefined");
        advance();
        return ExprPtr(std::move(n));
      }
      case Tok::kString: {
        std::string s = t.value;
        advance();
        while (cur().type == Tok::kString) {
          s += cur().value;
          advance();
        }
        auto l = node<Literal>(t);
        l->value = Value(std::move(s));
        return ExprPtr(std::move(l));
      }
      case Tok::kInt: {
        std::int64_t v = 0;
        std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
        return literal(t, Value(v));
      }
      case Tok::kFloat: return literal(t, Value(std::strtod(t.value.c_str(), nullptr)));
      case Tok::kOp:
        if (t.value == "(") {
          advance();
          STRATA_ASSIGN(ExprPtr e, parse_tuple(true, {}, true));
          STRATA_TRY(expect_op(")"));
          return e;
        }
        if (t.value == "[") return parse_list();
        if (t.value == "{") return parse_dict();
        break;
      default: break;
    }
    return unexpected();
  }

  Result<ExprPtr> literal(const Token& t, Value v) {
    auto l = node<Literal>(t);
    l->value = std::move(v);
    advance();
    return ExprPtr(std::move(l));
  }

  Result<ExprPtr> parse_list() {
    auto l = node<ListExpr>(cur());
    advance();
    while (!is_op("]")) {
      if (!l->items.empty()) STRATA_TRY(expect_op(","));
      if (is_op("]")) break;
      STRATA_ASSIGN(ExprPtr item, parse_expression(true));
      l->items.push_back(std::move(item));
    }
    advance();
    return ExprPtr(std::move(l));
  }
  Result<ExprPtr> parse_dict() {
    auto d = node<DictExpr>(cur());
    advance();
    while (!is_op("}")) {
      if (!d->items.empty()) STRATA_TRY(expect_op(","));
      if (is_op("}")) break;
      STRATA_ASSIGN(ExprPtr key, parse_expression(true));
      STRATA_TRY(expect_op(":"));
      STRATA_ASSIGN(ExprPtr value, parse_expression(true));
      d->items.emplace_back(std::move(key), std::move(value));
    }
    advance();
    return ExprPtr(std::move(d));
  }

  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || cur().type == Tok::kEof || is_op(")")) return true;
    for (const auto& e : extra_end)
      if (is_name(e)) return true;
    return false;
  }

  Result<ExprPtr> parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) STRATA_TRY(expect_op(","));
      if (is_tuple_end(extra_end)) break;
      STRATA_ASSIGN(ExprPtr e, parse_expression(with_condexpr));
      items.push_back(std::move(e));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) return error(cur(), "Expected an expression, got '" + describe(cur()) + "'");
    }
    auto t = node<ListExpr>(at);
    t->tuple = true;
    t->items = std::move(items);
    return ExprPtr(std::move(t));
  }

  Result<ExprPtr> parse_postfix(ExprPtr n) {
    while (true) {
      const Token& at = cur();
      if (is_op(".")) {
        advance();
        if (cur().type == Tok::kName) {
          auto g = node<GetAttr>(at);
          STRATA_TRY(deepen(*g, {n.get()}));
          g->object = std::move(n);
          g->name = cur().value;
          g->hash = std::hash<std::string_view>{}(g->name);
          g->method_kinds = builtin_method_kinds(g->name);
          g->loop_attr = loop_attr_of(g->name);
          g->dict_missing = Value::undefined("'dict object' has no attribute '" + g->name + "'");
          advance();
          n = std::move(g);
        } else if (cur().type == Tok::kInt) {
          auto g = node<GetItem>(at);
          g->object = std::move(n);
          STRATA_ASSIGN(g->key, literal(cur(), Value(static_cast<std::int64_t>(std::atoll(cur().value.c_str())))));
          n = std::move(g);
        } else {
          return error(cur(), "expected name or number");
        }
      } else if (is_op("[")) {
        advance();
        auto g = node<GetItem>(at);
        STRATA_TRY(deepen(*g, {n.get()}));
        g->object = std::move(n);
        STRATA_ASSIGN(g->key, parse_subscripts());
        STRATA_TRY(expect_op("]"));
        n = std::move(g);
      } else if (is_op("(")) {
        STRATA_ASSIGN(n, parse_call(std::move(n)));
      } else {
        return n;
      }
    }
  }

  Result<ExprPtr> parse_subscripts() {
    const Token& at = cur();
    std::vector<ExprPtr> items;
    bool tuple = false;
    while (true) {
      STRATA_ASSIGN(ExprPtr e, parse_subscript());
      items.push_back(std::move(e));
      if (!skip_op(",")) break;
      tuple = true;
      if (is_op("]")) break;
    }
    if (!tuple) return std::move(items[0]);
    auto t = node<ListExpr>(at);
    t->tuple = true;
    t->items = std::move(items);
    return ExprPtr(std::move(t));
  }
  Result<ExprPtr> parse_subscript() {
    const Token& at = cur();
    ExprPtr start;
    if (!is_op(":")) {
      STRATA_ASSIGN(start, parse_expression(true));
      if (!is_op(":")) return start;
    }
    auto s = node<SliceExpr>(at);
    s->start = std::move(start);
    advance();  // ':'
    if (!is_op("]") && !is_op(",") && !is_op(":")) {
      STRATA_ASSIGN(s->stop, parse_expression(true));
    }
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(",")) {
        STRATA_ASSIGN(s->step, parse_expression(true));
      }
    }
    return ExprPtr(std::move(s));
  }

  Result<Args> parse_call_args() {
    STRATA_TRY(expect_op("("));
    Args args;
    bool first = true;
    while (!is_op(")")) {
      if (!first) STRATA_TRY(expect_op(","));
      first = false;
      if (is_op(")")) break;
      if (skip_op("*")) {
        STRATA_ASSIGN(args.star, parse_expression(true));
      } else if (skip_op("**")) {
        STRATA_ASSIGN(args.double_star, parse_expression(true));
      } else if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().value == "=") {
        std::string key = cur().value;
        advance();
        advance();
        STRATA_ASSIGN(ExprPtr v, parse_expression(true));
        args.keyword.emplace_back(std::move(key), std::move(v));
      } else {
        if (!args.keyword.empty() || args.star || args.double_star)
          return error(cur(), "invalid syntax for function call expression");
        STRATA_ASSIGN(ExprPtr v, parse_expression(true));
        args.positional.push_back(std::move(v));
      }
    }
    advance();
    return args;
  }

  Result<ExprPtr> parse_call(ExprPtr callee) {
    auto c = node<Call>(cur());
    STRATA_TRY(deepen(*c, {callee.get()}));
    c->pos = callee->pos;
    c->callee = std::move(callee);
    c->method = dynamic_cast<const GetAttr*>(c->callee.get());
    STRATA_ASSIGN(c->args, parse_call_args());
    return ExprPtr(std::move(c));
  }

  Result<ExprPtr> parse_filter_expr(ExprPtr n) {
    while (true) {
      if (is_op("|")) {
        advance();
        STRATA_ASSIGN(auto f, parse_filter_name_args());
        STRATA_TRY(deepen(*f, {n.get()}));
        f->input = std::move(n);
        n = std::move(f);
      } else if (is_name("is")) {
        STRATA_ASSIGN(n, parse_test(std::move(n)));
      } else if (is_op("(")) {
        STRATA_ASSIGN(n, parse_call(std::move(n)));
      } else {
        return n;
      }
    }
  }

  Result<ExprPtr> parse_test(ExprPtr n) {
    auto t = node<TestExpr>(cur());
    advance();  // is
    if (skip_name("not")) t->negated = true;
    STRATA_ASSIGN(t->name, expect_name());
    while (is_op(".") && peek().type == Tok::kName) {
      advance();
      t->name += "." + cur().value;
      advance();
    }
    STRATA_TRY(deepen(*t, {n.get()}));
    t->input = std::move(n);
    if (is_op("(")) {
      STRATA_ASSIGN(t->args, parse_call_args());
    } else if ((cur().type == Tok::kName || cur().type == Tok::kString || cur().type == Tok::kInt ||
                cur().type == Tok::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) return error(cur(), "You cannot chain multiple tests with is");
      STRATA_ASSIGN(ExprPtr arg, parse_primary());
      STRATA_ASSIGN(arg, parse_postfix(std::move(arg)));
      t->args.positional.push_back(std::move(arg));
    }
    auto it = env_->tests.find(t->name);
    if (it != env_->tests.end()) t->fn = &it->second;
    t->args_pure = args_pure(t->args);
    return ExprPtr(std::move(t));
  }

  static LoopAttr loop_attr_of(std::string_view name) {
    if (name == "index") return LoopAttr::kIndex;
    if (name == "index0") return LoopAttr::kIndex0;
    if (name == "revindex") return LoopAttr::kRevindex;
    if (name == "revindex0") return LoopAttr::kRevindex0;
    if (name == "first") return LoopAttr::kFirst;
    if (name == "last") return LoopAttr::kLast;
    if (name == "length") return LoopAttr::kLength;
    return LoopAttr::kNone;
  }

  static bool args_pure(const Args& args) {
    if (args.star || args.double_star) return false;
    for (const auto& e : args.positional)
      if (!e->pure()) return false;
    for (const auto& [k, e] : args.keyword)
      if (!e->pure()) return false;
    return true;
  }

  std::vector<Token> toks_;
  std::string_view source_;
  const std::shared_ptr<EnvironmentState>& env_;
  const std::string& name_;
  std::size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  int block_depth_ = 0;
  int for_nesting_ = 0;  // for statements (target to endfor) being parsed, macros included
  const std::string* loop_target_ = nullptr;  // target of the for loop whose body is being parsed
  std::unique_ptr<Program> program_;
};

}  // namespace

Result<std::unique_ptr<Program>> parse_program(std::vector<Token> tokens, std::string_view source,
                                               const std::shared_ptr<EnvironmentState>& env, const std::string& name) {
  Parser parser(std::move(tokens), source, env, name);
  return parser.run();
}

}  // namespace strata::jinja::detail

// Expressions of the Jinja parser (see parser_impl.h): precedence climbing from conditional
// expressions down to literals, postfix access, calls, filters and tests.
#include <charconv>
#include <cstdlib>

#include "jinja/parser_impl.h"

namespace strata::jinja::detail {


// ---- expressions
Result<ExprPtr> Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(*this);
  STRATA_TRY(check_depth());
  if (!with_condexpr) return parse_or();
  const Token& at = cur();
  STRATA_ASSIGN(ExprPtr expr, parse_or());
  while (skip_name("if")) {
    auto c = make_node<CondExpr>(at);
    c->yes = std::move(expr);
    STRATA_ASSIGN(c->test, parse_or());
    if (skip_name("else")) {
      STRATA_ASSIGN(c->no, parse_expression(true));
    }
    expr = std::move(c);
  }
  return expr;
}

// Sets parent's height from its children; an error past kMaxExprDepth.
Status Parser::deepen(Expr& parent, std::initializer_list<const Expr*> children) const {
  for (const Expr* c : children)
    if (c) parent.depth = std::max(parent.depth, c->depth + 1);
  if (parent.depth > kMaxExprDepth) return error(cur(), "expression too deeply nested");
  return ok_status();
}

Result<ExprPtr> Parser::binary(BinOp op, ExprPtr left, ExprPtr right, const Token& at) {
  auto b = make_node<Binary>(at);
  STRATA_TRY(deepen(*b, {left.get(), right.get()}));
  b->op = op;
  b->left = std::move(left);
  b->right = std::move(right);
  return ExprPtr(std::move(b));
}

Result<ExprPtr> Parser::parse_or() {
  STRATA_ASSIGN(ExprPtr left, parse_and());
  while (is_name("or")) {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(ExprPtr right, parse_and());
    STRATA_ASSIGN(left, binary(BinOp::kOr, std::move(left), std::move(right), at));
  }
  return left;
}

Result<ExprPtr> Parser::parse_and() {
  STRATA_ASSIGN(ExprPtr left, parse_not());
  while (is_name("and")) {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(ExprPtr right, parse_not());
    STRATA_ASSIGN(left, binary(BinOp::kAnd, std::move(left), std::move(right), at));
  }
  return left;
}

Result<ExprPtr> Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this);
    STRATA_TRY(check_depth());
    auto u = make_node<Unary>(cur());
    advance();
    u->op = UnaryOp::kNot;
    STRATA_ASSIGN(u->operand, parse_not());
    return ExprPtr(std::move(u));
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
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
  auto c = make_node<Compare>(at);
  c->first = std::move(first);
  c->rest = std::move(rest);
  return ExprPtr(std::move(c));
}

Result<ExprPtr> Parser::parse_math1() {
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

Result<ExprPtr> Parser::parse_concat() {
  STRATA_ASSIGN(ExprPtr left, parse_math2());
  while (is_op("~")) {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(ExprPtr right, parse_math2());
    STRATA_ASSIGN(left, binary(BinOp::kConcat, std::move(left), std::move(right), at));
  }
  return left;
}

Result<ExprPtr> Parser::parse_math2() {
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

Result<ExprPtr> Parser::parse_pow() {
  STRATA_ASSIGN(ExprPtr left, parse_unary(true));
  while (is_op("**")) {
    const Token& at = cur();
    advance();
    STRATA_ASSIGN(ExprPtr right, parse_unary(true));
    STRATA_ASSIGN(left, binary(BinOp::kPow, std::move(left), std::move(right), at));
  }
  return left;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
  DepthGuard guard(*this);
  STRATA_TRY(check_depth());
  ExprPtr n;
  if (is_op("-") || is_op("+")) {
    auto u = make_node<Unary>(cur());
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

Result<ExprPtr> Parser::parse_primary() {
  const Token& t = cur();
  switch (t.type) {
    case Tok::kName: {
      const std::string& v = t.value;
      if (v == "true" || v == "True" || v == "false" || v == "False") return literal(t, Value(v[0] == 't' || v[0] == 'T'));
      if (v == "none" || v == "None") return literal(t, Value::none());
      auto n = make_node<Name>(t);
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
      auto l = make_node<Literal>(t);
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

Result<ExprPtr> Parser::literal(const Token& t, Value v) {
  auto l = make_node<Literal>(t);
  l->value = std::move(v);
  advance();
  return ExprPtr(std::move(l));
}

Result<ExprPtr> Parser::parse_list() {
  auto l = make_node<ListExpr>(cur());
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

Result<ExprPtr> Parser::parse_dict() {
  auto d = make_node<DictExpr>(cur());
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

bool Parser::is_tuple_end(const std::vector<std::string>& extra_end) const {
  if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || cur().type == Tok::kEof || is_op(")")) return true;
  for (const auto& e : extra_end)
    if (is_name(e)) return true;
  return false;
}

Result<ExprPtr> Parser::parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
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
  auto t = make_node<ListExpr>(at);
  t->tuple = true;
  t->items = std::move(items);
  return ExprPtr(std::move(t));
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr n) {
  while (true) {
    const Token& at = cur();
    if (is_op(".")) {
      advance();
      if (cur().type == Tok::kName) {
        auto g = make_node<GetAttr>(at);
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
        auto g = make_node<GetItem>(at);
        g->object = std::move(n);
        STRATA_ASSIGN(g->key, literal(cur(), Value(static_cast<std::int64_t>(std::atoll(cur().value.c_str())))));
        n = std::move(g);
      } else {
        return error(cur(), "expected name or number");
      }
    } else if (is_op("[")) {
      advance();
      auto g = make_node<GetItem>(at);
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

Result<ExprPtr> Parser::parse_subscripts() {
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
  auto t = make_node<ListExpr>(at);
  t->tuple = true;
  t->items = std::move(items);
  return ExprPtr(std::move(t));
}

Result<ExprPtr> Parser::parse_subscript() {
  const Token& at = cur();
  ExprPtr start;
  if (!is_op(":")) {
    STRATA_ASSIGN(start, parse_expression(true));
    if (!is_op(":")) return start;
  }
  auto s = make_node<SliceExpr>(at);
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

Result<Args> Parser::parse_call_args() {
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

Result<ExprPtr> Parser::parse_call(ExprPtr callee) {
  auto c = make_node<Call>(cur());
  STRATA_TRY(deepen(*c, {callee.get()}));
  c->pos = callee->pos;
  c->callee = std::move(callee);
  c->method = dynamic_cast<const GetAttr*>(c->callee.get());
  STRATA_ASSIGN(c->args, parse_call_args());
  return ExprPtr(std::move(c));
}

Result<ExprPtr> Parser::parse_filter_expr(ExprPtr n) {
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

Result<ExprPtr> Parser::parse_test(ExprPtr n) {
  auto t = make_node<TestExpr>(cur());
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

LoopAttr Parser::loop_attr_of(std::string_view name) {
  if (name == "index") return LoopAttr::kIndex;
  if (name == "index0") return LoopAttr::kIndex0;
  if (name == "revindex") return LoopAttr::kRevindex;
  if (name == "revindex0") return LoopAttr::kRevindex0;
  if (name == "first") return LoopAttr::kFirst;
  if (name == "last") return LoopAttr::kLast;
  if (name == "length") return LoopAttr::kLength;
  return LoopAttr::kNone;
}

bool Parser::args_pure(const Args& args) {
  if (args.star || args.double_star) return false;
  for (const auto& e : args.positional)
    if (!e->pure()) return false;
  for (const auto& [k, e] : args.keyword)
    if (!e->pure()) return false;
  return true;
}

}  // namespace strata::jinja::detail

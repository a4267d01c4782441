#include "jinja/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace strata::jinja {
namespace {

Error format_error(std::string message) { return Error(ErrorCode::kFailed, std::move(message)); }

std::string c_format(const char* spec, double v) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, spec, v);
  if (n < 0) return "";
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), spec, v);
  big.resize(static_cast<std::size_t>(n));
  return big;
}

// A float with a printf conversion ('f', 'e', 'g', ...) and precision.
std::string printf_float(double v, char type, int precision, bool alternate) {
  if (std::isnan(v)) return type >= 'a' ? "nan" : "NAN";
  if (std::isinf(v)) return std::string(v < 0 ? "-" : "") + (type >= 'a' ? "inf" : "INF");
  std::string spec = "%";
  if (alternate) spec += '#';
  spec += "." + std::to_string(precision) + type;
  return c_format(spec.c_str(), v);
}

std::string group_thousands(const std::string& digits, char sep) {
  std::size_t start = (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) ? 1 : 0;
  std::size_t end = digits.find_first_of(".eE");
  if (end == std::string::npos) end = digits.size();
  std::string out = digits.substr(0, start);
  std::size_t n = end - start;
  for (std::size_t i = 0; i < n; ++i) {
    if (i && (n - i) % 3 == 0) out += sep;
    out += digits[start + i];
  }
  return out + digits.substr(end);
}

std::string int_in_base(std::int64_t v, int base, bool upper) {
  char buf[80];
  bool neg = v < 0;
  std::uint64_t u = neg ? (~static_cast<std::uint64_t>(v) + 1) : static_cast<std::uint64_t>(v);
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, u, base);
  std::string s(buf, p);
  if (upper)
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return (neg ? "-" : "") + s;
}

std::string pad(const std::string& body, std::size_t width, char align, char fill) {
  std::size_t len = utf8_length(body);
  if (len >= width) return body;
  std::size_t missing = width - len;
  std::string f(1, fill);
  auto rep = [&f](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += f;
    return s;
  };
  switch (align) {
    case '<': return body + rep(missing);
    case '^': return rep(missing / 2) + body + rep(missing - missing / 2);
    case '=': {
      std::size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
      return body.substr(0, sign) + rep(missing) + body.substr(sign);
    }
    default: return rep(missing) + body;
  }
}

struct Spec {
  char fill = ' ';
  char align = '\0';
  char sign = '-';
  bool alternate = false;
  bool zero = false;
  std::size_t width = 0;
  char grouping = '\0';
  int precision = -1;
  char type = '\0';
};

Result<Spec> parse_spec(std::string_view s) {
  Spec spec;
  std::size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    spec.fill = s[0];
    spec.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '#') { spec.alternate = true; ++i; }
  if (i < s.size() && s[i] == '0') { spec.zero = true; ++i; }
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    spec.width = spec.width * 10 + static_cast<std::size_t>(s[i++] - '0');
    if (spec.width > 100000) return format_error("Too many decimal digits in format string");
  }
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    spec.precision = 0;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return format_error("Format specifier missing precision");
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      spec.precision = spec.precision * 10 + (s[i++] - '0');
      if (spec.precision > 1000) return format_error("precision too big");
    }
  }
  if (i < s.size()) spec.type = s[i++];
  if (i != s.size()) return format_error("Invalid format specifier");
  return spec;
}

Result<std::string> format_number(const Value& value, const Spec& spec) {
  char type = spec.type;
  std::string body;
  bool is_float = value.is_float();
  if (type == '\0' && !is_float) type = 'd';
  if (type == 'd' || type == 'x' || type == 'X' || type == 'o' || type == 'b' || type == 'c' || type == 'n') {
    if (is_float) return format_error("Unknown format code '" + std::string(1, type) + "' for object of type 'float'");
    std::int64_t v = value.as_int();
    if (type == 'c') return std::string(1, static_cast<char>(v));
    int base = type == 'x' || type == 'X' ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
    body = int_in_base(v, base, type == 'X');
    if (spec.alternate && base != 10) {
      std::string prefix = base == 16 ? (type == 'X' ? "0X" : "0x") : base == 8 ? "0o" : "0b";
      body = v < 0 ? "-" + prefix + body.substr(1) : prefix + body;
    }
  } else {
    double v = value.as_float();
    int precision = spec.precision < 0 ? 6 : spec.precision;
    switch (type) {
      case 'f': case 'F': case 'e': case 'E': body = printf_float(v, type, precision, spec.alternate); break;
      case 'g': case 'G': body = printf_float(v, type, spec.precision < 0 ? 6 : std::max(precision, 1), spec.alternate); break;
      case '%': body = printf_float(v * 100, 'f', precision, spec.alternate) + "%"; break;
      case '\0':
        if (spec.precision < 0) {
          body = format_float(v);
        } else {
          body = printf_float(v, 'g', std::max(precision, 1), spec.alternate);
          if (body.find_first_of(".enai") == std::string::npos) body += ".0";
        }
        break;
      default:
        return format_error("Unknown format code '" + std::string(1, type) + "' for object of type 'float'");
    }
  }
  if (body.empty()) return format_error("cannot format number");
  if (spec.grouping) body = group_thousands(body, spec.grouping);
  if (body[0] != '-' && spec.sign != '-') body = std::string(1, spec.sign) + body;
  char align = spec.align ? spec.align : '>';
  char fill = spec.fill;
  if (spec.zero && !spec.align) {
    align = '=';
    fill = '0';
  }
  return pad(body, spec.width, align, fill);
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string format_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, p);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  std::size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  int exponent = std::atoi(sci.c_str() + e + 1);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = neg ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + eb;
  }
  int decpt = exponent + 1;
  if (decpt <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
    out += digits + std::string(static_cast<std::size_t>(decpt) - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<std::size_t>(decpt)) + "." + digits.substr(static_cast<std::size_t>(decpt));
  }
  return out;
}

std::string python_repr_string(std::string_view s) {
  char quote = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

Result<std::string> apply_format_spec(const Value& value, std::string_view spec_text) {
  STRATA_ASSIGN(Spec spec, parse_spec(spec_text));
  if (value.is_number() && !(value.is_bool() && spec.type == '\0')) {
    if (spec.type == 's') return format_error("Unknown format code 's' for object of type '" + std::string(value.is_float() ? "float" : "int") + "'");
    return format_number(value, spec);
  }
  if (spec.type != '\0' && spec.type != 's')
    return format_error("Unknown format code '" + std::string(1, spec.type) + "' for object of type 'str'");
  std::string body = value.to_string();
  if (spec.precision >= 0) {
    std::size_t count = 0, i = 0;
    for (; i < body.size(); ++i) {
      if ((static_cast<unsigned char>(body[i]) & 0xC0) != 0x80) {
        if (count == static_cast<std::size_t>(spec.precision)) break;
        ++count;
      }
    }
    body.resize(i);
  }
  return pad(body, spec.width, spec.align ? spec.align : '<', spec.fill);
}

Result<std::string> python_str_format(std::string_view fmt, const CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') { out += '}'; ++i; continue; }
      return format_error("Single '}' encountered in format string");
    }
    if (c != '{') { out += c; continue; }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') { out += '{'; ++i; continue; }
    std::size_t close = i + 1;
    int depth = 1;
    while (close < fmt.size()) {
      if (fmt[close] == '{') ++depth;
      if (fmt[close] == '}' && --depth == 0) break;
      ++close;
    }
    if (close >= fmt.size()) return format_error("expected '}' before end of string");
    std::string_view field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string_view spec;
    char conversion = '\0';
    std::size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    std::size_t bang = field.find('!');
    if (bang != std::string_view::npos) {
      if (bang + 2 != field.size()) return format_error("expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    std::size_t name_end = field.find_first_of(".[");
    std::string_view head = field.substr(0, name_end);
    Value v;
    if (head.empty()) {
      if (auto_index >= args.positional.size())
        return format_error("Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
      v = args.positional[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(head[0]))) {
      std::size_t idx = 0;
      std::from_chars(head.data(), head.data() + head.size(), idx);
      if (idx >= args.positional.size())
        return format_error("Replacement index " + std::to_string(idx) + " out of range for positional args tuple");
      v = args.positional[idx];
    } else {
      const Value* kw = args.keyword_arg(head);
      if (!kw) return format_error("'" + std::string(head) + "'");
      v = *kw;
    }
    // `.attr` / `[key]` chains on dicts and lists.
    std::size_t p = name_end;
    while (p != std::string_view::npos && p < field.size()) {
      if (field[p] == '.') {
        std::size_t q = field.find_first_of(".[", p + 1);
        std::string key(field.substr(p + 1, q == std::string_view::npos ? std::string_view::npos : q - p - 1));
        const Value* found = v.is_dict() ? v.as_dict().find(std::string_view(key)) : nullptr;
        if (!found) return format_error("'" + v.type_name() + "' has no attribute '" + key + "'");
        v = *found;
        p = q;
      } else {
        std::size_t q = field.find(']', p);
        if (q == std::string_view::npos) return format_error("Missing ']' in format string");
        std::string key(field.substr(p + 1, q - p - 1));
        Value next;
        if (v.is_sequence() && !key.empty() && std::isdigit(static_cast<unsigned char>(key[0]))) {
          std::size_t idx = static_cast<std::size_t>(std::atoll(key.c_str()));
          if (idx >= v.as_list().size()) return format_error("list index out of range");
          next = v.as_list()[idx];
        } else if (v.is_dict() && v.as_dict().find(std::string_view(key))) {
          next = *v.as_dict().find(std::string_view(key));
        } else {
          return format_error("'" + key + "'");
        }
        v = next;
        p = q + 1;
      }
    }
    if (conversion == 'r') v = Value(v.repr());
    else if (conversion == 's') v = Value(v.to_string());
    else if (conversion != '\0') return format_error("Unknown conversion specifier " + std::string(1, conversion));
    if (spec.find('{') != std::string_view::npos) {
      STRATA_ASSIGN(std::string nested, python_str_format(spec, args));
      STRATA_ASSIGN(std::string piece, apply_format_spec(v, nested));
      out += piece;
    } else if (spec.empty()) {
      v.append_to(out);
    } else {
      STRATA_ASSIGN(std::string piece, apply_format_spec(v, spec));
      out += piece;
    }
  }
  return out;
}

Result<std::string> python_percent_format(std::string_view fmt, const Value& args) {
  ValueList single;
  const ValueList* positional = nullptr;
  if (args.is_tuple()) {
    positional = &args.as_list();
  } else {
    single.push_back(args);
    positional = &single;
  }
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') { out += fmt[i]; continue; }
    if (++i >= fmt.size()) return format_error("incomplete format");
    if (fmt[i] == '%') { out += '%'; continue; }
    Value v;
    bool have = false;
    if (fmt[i] == '(') {
      std::size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) return format_error("incomplete format key");
      if (!args.is_dict()) return format_error("format requires a mapping");
      const Value* found = args.as_dict().find(fmt.substr(i + 1, close - i - 1));
      if (!found) return format_error("'" + std::string(fmt.substr(i + 1, close - i - 1)) + "'");
      v = *found;
      have = true;
      i = close + 1;
    }
    Spec spec;
    spec.align = '>';
    for (; i < fmt.size(); ++i) {
      char f = fmt[i];
      if (f == '-') spec.align = '<';
      else if (f == '+') spec.sign = '+';
      else if (f == ' ') { if (spec.sign != '+') spec.sign = ' '; }
      else if (f == '#') spec.alternate = true;
      else if (f == '0') spec.zero = true;
      else break;
    }
    while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) {
      spec.width = spec.width * 10 + static_cast<std::size_t>(fmt[i++] - '0');
      if (spec.width > 100000) return format_error("width too big");
    }
    if (i < fmt.size() && fmt[i] == '.') {
      spec.precision = 0;
      ++i;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) {
        spec.precision = spec.precision * 10 + (fmt[i++] - '0');
        if (spec.precision > 1000) return format_error("precision too big");
      }
    }
    if (i >= fmt.size()) return format_error("incomplete format");
    char type = fmt[i];
    if (!have) {
      if (next >= positional->size()) return format_error("not enough arguments for format string");
      v = (*positional)[next++];
    }
    std::string body;
    if (type == 's' || type == 'r' || type == 'a') {
      body = type == 's' ? v.to_string() : v.repr();
      if (spec.precision >= 0 && static_cast<std::size_t>(spec.precision) < body.size())
        body.resize(static_cast<std::size_t>(spec.precision));
      if (spec.align == '<') body = pad(body, spec.width, '<', ' ');
      else body = pad(body, spec.width, '>', ' ');
    } else if (std::string_view("diouxXeEfFgGc").find(type) != std::string_view::npos) {
      if (!v.is_number())
        return format_error("%" + std::string(1, type) + " format: a real number is required, not " +
                            v.type_name().substr(0, v.type_name().find(' ')));
      Spec s = spec;
      Value num = v;
      if (type == 'd' || type == 'i' || type == 'u') {
        s.type = 'd';
        num = Value(static_cast<std::int64_t>(v.as_float()));
        if (v.is_int() || v.is_bool()) num = Value(v.as_int());
      } else if (type == 'x' || type == 'X' || type == 'o') {
        if (v.is_float()) return format_error("%" + std::string(1, type) + " format: an integer is required, not float");
        s.type = type;
      } else {
        s.type = type;
        num = Value(v.as_float());
      }
      if (spec.align == '<') { s.zero = false; s.align = '<'; } else { s.align = spec.zero ? '\0' : '>'; }
      STRATA_ASSIGN(body, format_number(num, s));
    } else {
      return format_error("unsupported format character '" + std::string(1, type) + "'");
    }
    out += body;
  }
  if (!args.is_dict() && next < positional->size() && !(positional == &single && next == 0 && false))
    return format_error("not all arguments converted during string formatting");
  return out;
}

}  // namespace strata::jinja

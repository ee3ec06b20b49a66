#pragma once

// What the tests need from docs/openapi.yaml, read line by line: the operations under
// `paths:` (a path at two spaces of indentation, its methods at four, their fields at six),
// each with its security requirement and response codes; the components and every $ref.
// The document keeps to that layout on purpose (its header says so), so no YAML library is
// needed; a line this reader does not expect makes it throw rather than guess.

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace medianest::test {

/// One operation of the document.
struct openapi_operation {
  std::string method; ///< upper case, as the router names it
  std::string path;   ///< with `{name}` parameters
  /// The security requirement's alternatives (`bearerAuth: [admin]`, `{}`, …); empty when
  /// the operation inherits the document's.
  std::vector<std::string> security;
  bool has_security = false;  ///< the operation states its own requirement
  std::set<std::string> responses;
};

struct openapi_outline {
  std::vector<openapi_operation> operations;
  /// The document's top-level security alternatives.
  std::vector<std::string> security;
  /// "schemas/Metrics", "responses/NotFound", … for every component defined.
  std::set<std::string> components;
  /// Every `$ref: '#/components/…'` target, as "schemas/Metrics".
  std::set<std::string> refs;
  /// The lines of the document, for checks of one section.
  std::vector<std::string> lines;
};

namespace openapi_detail {

inline size_t indent_of(const std::string& line) {
  return line.find_first_not_of(' ');
}

inline std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t");
  return std::string{s.substr(b, e - b + 1)};
}

inline bool is_http_method(const std::string& key) {
  static const std::set<std::string> methods{"get",     "put",  "post",  "delete",
                                             "options", "head", "patch", "trace"};
  return methods.count(key) > 0;
}

inline std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// "key:" or "key: value" at this line's indentation → key; empty if the line is no key.
inline std::string key_of(const std::string& line) {
  auto text = trim(line);
  auto colon = text.find(':');
  if (colon == std::string::npos || text.front() == '-' || text.front() == '#')
    return {};
  if (colon + 1 < text.size() && text[colon + 1] != ' ')
    return {};
  auto key = text.substr(0, colon);
  if (key.size() >= 2 && (key.front() == '\'' || key.front() == '"') && key.back() == key.front())
    key = key.substr(1, key.size() - 2);
  return key;
}

inline std::string value_of(const std::string& line) {
  auto text = trim(line);
  auto colon = text.find(':');
  return colon == std::string::npos ? std::string{} : trim(text.substr(colon + 1));
}

/// The "- item" lines following `i` that are indented deeper than `parent_indent`.
inline std::vector<std::string> list_after(const std::vector<std::string>& lines, size_t& i,
                                           size_t parent_indent) {
  std::vector<std::string> items;
  while (i + 1 < lines.size()) {
    const auto& next = lines[i + 1];
    auto ind = indent_of(next);
    if (ind == std::string::npos || next[ind] == '#') {
      ++i;
      continue;
    }
    if (ind <= parent_indent)
      break;
    auto text = trim(next);
    if (text.rfind("- ", 0) != 0)
      throw std::runtime_error("openapi outline: expected a list item: " + next);
    items.push_back(trim(text.substr(2)));
    ++i;
  }
  return items;
}

} // namespace openapi_detail

/// Reads the outline of an OpenAPI document written in the layout described above.
inline openapi_outline read_openapi_outline(std::string_view document) {
  using namespace openapi_detail;
  openapi_outline out;
  std::istringstream in{std::string{document}};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    out.lines.push_back(line);
  }
  static const std::regex ref{R"(\$ref:\s*'#/components/([A-Za-z]+)/([A-Za-z0-9._-]+)')"};
  std::string section;      // the current top-level key
  std::string component;    // the current kind under components:
  std::string path;         // the current path under paths:
  // Index of the current operation; an index, since the vector grows.
  size_t op = 0;
  bool in_op = false;
  bool in_responses = false;
  const auto& lines = out.lines;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    for (std::sregex_iterator it(line.begin(), line.end(), ref), end; it != end; ++it)
      out.refs.insert((*it)[1].str() + "/" + (*it)[2].str());
    auto ind = indent_of(line);
    if (ind == std::string::npos || line[ind] == '#')
      continue;
    auto key = key_of(line);
    if (ind == 0) {
      section = key;
      in_op = false;
      if (section == "security")
        out.security = list_after(lines, i, 0);
      continue;
    }
    if (section == "components") {
      if (ind == 2)
        component = key;
      else if (ind == 4 && !key.empty())
        out.components.insert(component + "/" + key);
      continue;
    }
    if (section != "paths")
      continue;
    if (ind == 2) {
      if (key.empty() || key.front() != '/')
        throw std::runtime_error("openapi outline: expected a path at two spaces: " + line);
      path = key;
      in_op = false;
    } else if (ind == 4) {
      in_op = is_http_method(key);
      if (in_op) {
        out.operations.push_back({upper(key), path, {}, false, {}});
        op = out.operations.size() - 1;
      }
    } else if (in_op && ind == 6) {
      in_responses = key == "responses";
      if (key == "security") {
        out.operations[op].has_security = true;
        auto inline_value = value_of(line);
        if (inline_value == "[]")
          continue;
        if (!inline_value.empty())
          throw std::runtime_error("openapi outline: write security as a list: " + line);
        out.operations[op].security = list_after(lines, i, 6);
      }
    } else if (in_op && in_responses && ind == 8 && !key.empty()) {
      out.operations[op].responses.insert(key);
    }
  }
  return out;
}

} // namespace medianest::test

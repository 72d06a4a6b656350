// SPDX-License-Identifier: MIT
// The little JSON QMP needs (RFC 8259): a value type, a parser that refuses what is not JSON (with a
// depth limit, so hostile input cannot exhaust the stack) and a compact emitter with QEMU's spacing
// (`{"return": {}}`). Objects keep their members in order.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace strobe::vmm::mon {

class Json {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  Json(bool b) : type_(Type::kBool), bool_(b) {}  // NOLINT: implicit on purpose, for literals
  Json(int v) : type_(Type::kNumber), number_(v) {}
  Json(int64_t v) : type_(Type::kNumber), number_(static_cast<double>(v)) {}
  Json(double v) : type_(Type::kNumber), number_(v) {}
  Json(const char* s) : type_(Type::kString), string_(s) {}
  Json(std::string s) : type_(Type::kString), string_(std::move(s)) {}
  static Json Array() { return Json(Type::kArray); }
  static Json Object() { return Json(Type::kObject); }

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_string() const { return type_ == Type::kString; }
  const std::string& str() const { return string_; }
  bool boolean() const { return bool_; }
  double number() const { return number_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Objects: the member named key, or nullptr.
  const Json* Find(const std::string& key) const;
  // Objects: sets key (replacing an existing member); returns *this for chaining.
  Json& Set(const std::string& key, Json value);
  // Arrays: appends.
  Json& Push(Json value);

  // Compact, with ", " and ": " as QEMU prints QMP; strings escaped as JSON requires.
  std::string Dump() const;

 private:
  explicit Json(Type t) : type_(t) {}
  friend class JsonParser;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses one JSON text (surrounding whitespace allowed). false with a one-line *error on anything else:
// bad syntax, trailing bytes, nesting deeper than 64, invalid escapes or control characters in strings.
bool ParseJson(const std::string& text, Json* out, std::string* error);

}  // namespace strobe::vmm::mon

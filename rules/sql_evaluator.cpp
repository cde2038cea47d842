#include "rules/sql_evaluator.h"

#include "rules/sql_functions.h"
#include "rules/sql_json.h"
#include "rules/sql_operators.h"

namespace offcloud {
namespace {

const std::string kNoPayload;

class Evaluator {
 public:
  Evaluator(SqlVersion version, const EvaluationContext& context)
      : version_(version),
        context_(context),
        payload_(context.message != nullptr ? context.message->payload : kNoPayload) {}

  std::vector<SqlValue>& variables() { return variables_; }

  void set_variables(const SqlStatement& statement) {
    variables_.reserve(statement.variables.size());
    for (const SqlAssignment& assignment : statement.variables) {
      variables_.push_back(evaluate(*assignment.value, nullptr));
    }
  }

  std::optional<std::string> run(const SqlSelect& select) {
    if (select.where && !is_true(evaluate(*select.where, nullptr))) return std::nullopt;
    bool whole_as_int = version_ == SqlVersion::k2016_03_23;
    if (select.items.size() == 1 && select.items[0].expr->kind == SqlExprKind::kWildcard &&
        !select.select_value) {
      const SqlValue& root = payload_root();
      if (root.is_undefined()) return payload_;
      return to_json(root, whole_as_int);
    }
    if (select.select_value && select.items[0].expr->kind == SqlExprKind::kWildcard &&
        payload_root().is_undefined()) {
      return payload_;
    }
    return to_json(project(select, nullptr), whole_as_int);
  }

  // `row` is the element a sub-select is looking at, or nullptr for the
  // payload itself.
  SqlValue evaluate(const SqlExpr& expr, const SqlValue* row) {
    switch (expr.kind) {
      case SqlExprKind::kLiteral:
        return expr.literal;
      case SqlExprKind::kField: {
        const SqlValue* found = current(row).find(expr.name);
        return found != nullptr ? *found : SqlValue();
      }
      case SqlExprKind::kWildcard:
        return current(row);
      case SqlExprKind::kVariable:
        return expr.variable_slot < variables_.size() ? variables_[expr.variable_slot] : SqlValue();
      case SqlExprKind::kMember: {
        SqlValue base = evaluate(*expr.operands[0], row);
        const SqlValue* found = base.find(expr.name);
        return found != nullptr ? *found : SqlValue();
      }
      case SqlExprKind::kIndex:
        return index(evaluate(*expr.operands[0], row), evaluate(*expr.operands[1], row));
      case SqlExprKind::kUnary: {
        SqlValue operand = evaluate(*expr.operands[0], row);
        return expr.op == SqlOperator::kNot ? logical_not(operand) : negate(operand);
      }
      case SqlExprKind::kBinary:
        return binary(expr, row);
      case SqlExprKind::kCall:
        return call(expr, row);
      case SqlExprKind::kCase:
        return case_value(expr, row);
      case SqlExprKind::kArray: {
        SqlValue::Array elements;
        elements.reserve(expr.operands.size());
        for (const auto& operand : expr.operands) elements.push_back(evaluate(*operand, row));
        return SqlValue::array(std::move(elements));
      }
      case SqlExprKind::kObject: {
        SqlValue::Object members;
        members.reserve(expr.operands.size());
        for (std::size_t i = 0; i < expr.operands.size(); ++i) {
          members.emplace_back(expr.keys[i], evaluate(*expr.operands[i], row));
        }
        return SqlValue::object(std::move(members));
      }
      case SqlExprKind::kSubquery:
        return subquery(*expr.subquery, row);
    }
    return SqlValue();
  }

 private:
  static bool is_true(const SqlValue& value) { return value.is_boolean() && value.as_boolean(); }

  const SqlValue& payload_root() {
    if (!root_parsed_) {
      root_parsed_ = true;
      if (std::optional<SqlValue> parsed =
              parse_json(payload_, version_ == SqlVersion::k2016_03_23)) {
        root_ = std::move(*parsed);
      }
    }
    return root_;
  }
  const SqlValue& current(const SqlValue* row) { return row != nullptr ? *row : payload_root(); }

  SqlValue project(const SqlSelect& select, const SqlValue* row) {
    if (select.select_value) return evaluate(*select.items[0].expr, row);
    SqlValue::Object members;
    members.reserve(select.items.size());
    for (const SqlSelectItem& item : select.items) {
      if (item.expr->kind == SqlExprKind::kWildcard) {
        const SqlValue& whole = current(row);
        if (!whole.is_object()) continue;
        for (const SqlValue::Member& member : whole.as_object())
          put(&members, member.first, member.second);
        continue;
      }
      put(&members, item.output_name, evaluate(*item.expr, row));
    }
    return SqlValue::object(std::move(members));
  }

  // A later column of the same name replaces the earlier one in place.
  static void put(SqlValue::Object* members, const std::string& name, SqlValue value) {
    for (SqlValue::Member& member : *members) {
      if (member.first == name) {
        member.second = std::move(value);
        return;
      }
    }
    members->emplace_back(name, std::move(value));
  }

  static SqlValue index(const SqlValue& base, const SqlValue& position) {
    if (base.is_array() && position.is_int()) {
      std::int64_t i = position.as_int();
      const SqlValue::Array& elements = base.as_array();
      if (i >= 0 && static_cast<std::size_t>(i) < elements.size()) return elements[i];
      return SqlValue();
    }
    if (base.is_object() && position.is_string()) {
      const SqlValue* found = base.find(position.as_string());
      return found != nullptr ? *found : SqlValue();
    }
    return SqlValue();
  }

  SqlValue binary(const SqlExpr& expr, const SqlValue* row) {
    SqlValue left = evaluate(*expr.operands[0], row);
    SqlValue right = evaluate(*expr.operands[1], row);
    switch (expr.op) {
      case SqlOperator::kAnd:
        return logical_and(left, right);
      case SqlOperator::kOr:
        return logical_or(left, right);
      case SqlOperator::kEqual:
        return equals(left, right);
      case SqlOperator::kNotEqual:
        return not_equals(left, right);
      case SqlOperator::kLess:
      case SqlOperator::kLessEqual:
      case SqlOperator::kGreater:
      case SqlOperator::kGreaterEqual:
        return compare(expr.op, left, right);
      case SqlOperator::kIn:
        return contained_in(left, right);
      default:
        return apply_arithmetic(expr.op, left, right);
    }
  }

  SqlValue call(const SqlExpr& expr, const SqlValue* row) {
    const SqlFunctionSpec& function = *expr.function;
    int count = static_cast<int>(expr.operands.size());
    if (count < function.min_args || (function.max_args >= 0 && count > function.max_args)) {
      return SqlValue();
    }
    // Most calls take few arguments: keep them on the stack.
    constexpr std::size_t kInline = 4;
    SqlValue inline_args[kInline];
    std::vector<SqlValue> heap_args;
    SqlValue* args = inline_args;
    if (expr.operands.size() > kInline) {
      heap_args.resize(expr.operands.size());
      args = heap_args.data();
    }
    for (std::size_t i = 0; i < expr.operands.size(); ++i) {
      const SqlExpr& operand = *expr.operands[i];
      if (function.star_is_raw_payload && operand.kind == SqlExprKind::kWildcard &&
          row == nullptr) {
        args[i] = SqlValue::string(payload_);
      } else {
        args[i] = evaluate(operand, row);
      }
    }
    SqlCallEnvironment env{context_, version_};
    return function.impl(args, expr.operands.size(), env);
  }

  SqlValue case_value(const SqlExpr& expr, const SqlValue* row) {
    std::size_t i = 0;
    SqlValue subject;
    if (expr.has_case_subject) {
      subject = evaluate(*expr.operands[i++], row);
      // "If v is Undefined, the result of the case statement is Undefined."
      if (subject.is_undefined()) return SqlValue();
    }
    std::size_t end = expr.operands.size() - (expr.has_else ? 1 : 0);
    for (; i + 1 < end; i += 2) {
      SqlValue when = evaluate(*expr.operands[i], row);
      bool matched = expr.has_case_subject ? is_true(equals(subject, when)) : is_true(when);
      if (matched) return evaluate(*expr.operands[i + 1], row);
    }
    if (expr.has_else) return evaluate(*expr.operands.back(), row);
    return SqlValue();
  }

  // (SELECT ... FROM array WHERE ...): the projection of each element the
  // WHERE accepts, as an array. FROM an object projects that one object, as
  // in AWS's transform('enrichArray', (select a, b from data2), ...).
  SqlValue subquery(const SqlSelect& select, const SqlValue* row) {
    SqlValue source = evaluate(*select.source, row);
    if (source.is_object()) {
      if (select.where && !is_true(evaluate(*select.where, &source))) return SqlValue();
      return project(select, &source);
    }
    if (!source.is_array()) return SqlValue();
    SqlValue::Array results;
    for (const SqlValue& element : source.as_array()) {
      if (select.where && !is_true(evaluate(*select.where, &element))) continue;
      SqlValue projected = project(select, &element);
      if (!projected.is_undefined()) results.push_back(std::move(projected));
    }
    return SqlValue::array(std::move(results));
  }

  SqlVersion version_;
  const EvaluationContext& context_;
  const std::string& payload_;
  bool root_parsed_ = false;
  SqlValue root_;  // Undefined when the payload is not JSON
  std::vector<SqlValue> variables_;
};

}  // namespace

std::optional<std::string> evaluate_statement(const SqlStatement& statement,
                                              const EvaluationContext& context) {
  Evaluator evaluator(statement.version, context);
  evaluator.set_variables(statement);
  return evaluator.run(statement.select);
}

std::vector<SqlValue> evaluate_variables(const SqlStatement& statement,
                                         const EvaluationContext& context) {
  Evaluator evaluator(statement.version, context);
  evaluator.set_variables(statement);
  return std::move(evaluator.variables());
}

SqlValue evaluate_expression(const SqlExpr& expr, SqlVersion version,
                             const EvaluationContext& context,
                             const std::vector<SqlValue>& variables) {
  Evaluator evaluator(version, context);
  evaluator.variables() = variables;
  return evaluator.evaluate(expr, nullptr);
}

}  // namespace offcloud

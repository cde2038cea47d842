// A small RAII layer over SQLite: one connection, prepared statements, and
// errors as exceptions. Each store owns its own connection (SQLite in WAL mode
// lets them share one file), and serializes its own use of it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace offcloud {

class StorageError : public std::runtime_error {
 public:
  explicit StorageError(const std::string& what, bool no_space = false)
      : std::runtime_error(what), no_space_(no_space) {}
  // The disk is full: the same request may succeed once space returns.
  bool no_space() const { return no_space_; }

 private:
  bool no_space_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQLite.
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view text);
  void bind_blob(int index, std::string_view bytes);
  void bind_null(int index);

  // Returns true while there is a row to read.
  bool step();
  // Clears bindings and rewinds, so a cached statement can run again.
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement borrowed for one use: rewound when the borrow ends, so
// no half-read cursor keeps a read snapshot (and the WAL) alive.
class CachedStatement {
 public:
  explicit CachedStatement(Statement* statement) : statement_(statement) {}
  ~CachedStatement() { statement_->reset(); }
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

class Database;

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit()
// ran, so a throw in between never leaves the connection mid-transaction.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

class Database {
 public:
  // Opens (creating if needed) in WAL mode with synchronous=NORMAL: a commit
  // survives the process being killed; power loss needs synchronous=FULL.
  // An `exclusive` connection is the file's only user for as long as it is
  // open: it takes no file lock per transaction (no fcntl calls on every
  // read) and keeps the WAL index in memory.
  explicit Database(const std::string& path, bool exclusive = false);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  // Whether `table` exists and has `column` (for upgrading older data dirs).
  bool has_column(std::string_view table, std::string_view column);
  bool has_table(std::string_view table);
  std::unique_ptr<Statement> prepare(std::string_view sql);
  // Prepared once per SQL text and reused: hot paths do not parse SQL. The
  // caller serializes use of the connection.
  CachedStatement cached(std::string_view sql);

 private:
  sqlite3* db_ = nullptr;
  // Looked up by string_view (transparent hash): finding a statement
  // allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const {
      return std::hash<std::string_view>{}(sql);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
};

}  // namespace offcloud

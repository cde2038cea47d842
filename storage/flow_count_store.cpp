#include "storage/flow_count_store.h"

namespace offcloud {

FlowCountStore::FlowCountStore(const std::string& db_path) : db_(db_path) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS flow_count ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, kind INTEGER NOT NULL,"
      " name TEXT NOT NULL, c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL,"
      " c3 INTEGER NOT NULL, t0 INTEGER NOT NULL, t1 INTEGER NOT NULL,"
      " PRIMARY KEY (account_id, region, kind, name)) WITHOUT ROWID");
}

std::vector<FlowCountRow> FlowCountStore::load() {
  std::vector<FlowCountRow> rows;
  CachedStatement select = db_.cached(
      "SELECT account_id, region, kind, name, c0, c1, c2, c3, t0, t1 FROM flow_count"
      " WHERE kind BETWEEN 0 AND 3");
  while (select->step()) {
    FlowCountRow row;
    row.account_id = select->column_text(0);
    row.region = select->column_text(1);
    row.kind = static_cast<FlowCountRow::Kind>(select->column_int(2));
    row.name = select->column_text(3);
    for (int i = 0; i < 4; ++i)
      row.counts[i] = static_cast<std::uint64_t>(select->column_int(4 + i));
    for (int i = 0; i < 2; ++i) row.times[i] = select->column_int(8 + i);
    rows.push_back(std::move(row));
  }
  return rows;
}

void FlowCountStore::save(const std::vector<FlowCountRow>& rows) {
  if (rows.empty()) return;
  Transaction transaction(db_);
  CachedStatement upsert = db_.cached(
      "INSERT OR REPLACE INTO flow_count VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  for (const FlowCountRow& row : rows) {
    upsert->reset();
    upsert->bind(1, row.account_id);
    upsert->bind(2, row.region);
    upsert->bind(3, static_cast<std::int64_t>(row.kind));
    upsert->bind(4, row.name);
    // SQLite's integers are signed 64-bit: a count past 2^63 wraps, and
    // wraps back when loaded.
    for (int i = 0; i < 4; ++i) upsert->bind(5 + i, static_cast<std::int64_t>(row.counts[i]));
    for (int i = 0; i < 2; ++i) upsert->bind(9 + i, row.times[i]);
    upsert->step();
  }
  transaction.commit();
}

}  // namespace offcloud

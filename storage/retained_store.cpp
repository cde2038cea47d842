#include "storage/retained_store.h"

namespace offcloud {

RetainedStore::RetainedStore(const std::string& db_path) : db_(db_path) {
  constexpr std::string_view kTable =
      "CREATE TABLE IF NOT EXISTS retained_message ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, topic TEXT NOT NULL,"
      " payload BLOB NOT NULL, qos INTEGER NOT NULL, user_properties TEXT,"
      " last_modified_ms INTEGER NOT NULL, PRIMARY KEY (account_id, region, topic)) WITHOUT ROWID";
  if (db_.has_table("retained_message") && !db_.has_column("retained_message", "account_id")) {
    // Retained before accounts: the default account and region (a publish
    // did not record its region).
    Transaction transaction(db_);
    db_.exec("ALTER TABLE retained_message RENAME TO retained_message_v1");
    db_.exec(kTable);
    db_.exec(
        "INSERT INTO retained_message SELECT '000000000000', 'us-east-1', topic, payload, qos,"
        " user_properties, last_modified_ms FROM retained_message_v1;"
        "DROP TABLE retained_message_v1");
    transaction.commit();
  }
  db_.exec(kTable);
  put_ = db_.prepare("INSERT OR REPLACE INTO retained_message VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  erase_ = db_.prepare(
      "DELETE FROM retained_message WHERE account_id = ?1 AND region = ?2 AND topic = ?3");
  get_ = db_.prepare(
      "SELECT payload, qos, user_properties, last_modified_ms FROM retained_message"
      " WHERE account_id = ?1 AND region = ?2 AND topic = ?3");
  list_ = db_.prepare(
      "SELECT topic, length(payload), qos, last_modified_ms FROM retained_message"
      " WHERE account_id = ?1 AND region = ?2 AND topic >= ?3 ORDER BY topic LIMIT ?4");
}

void RetainedStore::put(const RetainedMessage& message) {
  std::lock_guard lock(mutex_);
  put_->reset();
  put_->bind(1, message.account_id);
  put_->bind(2, message.region);
  put_->bind(3, message.topic);
  put_->bind_blob(4, message.payload);
  put_->bind(5, std::int64_t{message.qos});
  if (message.user_properties) {
    put_->bind(6, *message.user_properties);
  } else {
    put_->bind_null(6);
  }
  put_->bind(7, message.last_modified_ms);
  put_->step();
}

void RetainedStore::erase(const std::string& account_id, const std::string& region,
                          const std::string& topic) {
  std::lock_guard lock(mutex_);
  erase_->reset();
  erase_->bind(1, account_id);
  erase_->bind(2, region);
  erase_->bind(3, topic);
  erase_->step();
}

std::optional<RetainedMessage> RetainedStore::get(const std::string& account_id,
                                                  const std::string& region,
                                                  const std::string& topic) {
  std::lock_guard lock(mutex_);
  get_->reset();
  get_->bind(1, account_id);
  get_->bind(2, region);
  get_->bind(3, topic);
  if (!get_->step()) return std::nullopt;
  RetainedMessage message;
  message.account_id = account_id;
  message.region = region;
  message.topic = topic;
  message.payload = get_->column_text(0);
  message.qos = static_cast<int>(get_->column_int(1));
  if (!get_->column_is_null(2)) message.user_properties = get_->column_text(2);
  message.last_modified_ms = get_->column_int(3);
  get_->reset();
  return message;
}

RetainedPage RetainedStore::list(const std::string& account_id, const std::string& region,
                                 const std::string& from, int limit) {
  std::lock_guard lock(mutex_);
  list_->reset();
  list_->bind(1, account_id);
  list_->bind(2, region);
  list_->bind(3, from);
  list_->bind(4, std::int64_t{limit} + 1);  // one more tells whether a next page exists
  RetainedPage page;
  while (list_->step()) {
    RetainedSummary message;
    message.topic = list_->column_text(0);
    if (static_cast<int>(page.messages.size()) == limit) {
      page.next_topic = message.topic;
      break;
    }
    message.payload_size = list_->column_int(1);
    message.qos = static_cast<int>(list_->column_int(2));
    message.last_modified_ms = list_->column_int(3);
    page.messages.push_back(std::move(message));
  }
  list_->reset();
  return page;
}

}  // namespace offcloud

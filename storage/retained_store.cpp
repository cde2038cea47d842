#include "storage/retained_store.h"

namespace offcloud {

RetainedStore::RetainedStore(const std::string& db_path) : db_(db_path) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS retained_message ("
      " topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL,"
      " user_properties TEXT, last_modified_ms INTEGER NOT NULL) WITHOUT ROWID");
  put_ = db_.prepare("INSERT OR REPLACE INTO retained_message VALUES (?1, ?2, ?3, ?4, ?5)");
  erase_ = db_.prepare("DELETE FROM retained_message WHERE topic = ?1");
  get_ = db_.prepare(
      "SELECT payload, qos, user_properties, last_modified_ms FROM retained_message"
      " WHERE topic = ?1");
  list_ = db_.prepare(
      "SELECT topic, length(payload), qos, last_modified_ms FROM retained_message"
      " WHERE topic >= ?1 ORDER BY topic LIMIT ?2");
}

void RetainedStore::put(const RetainedMessage& message) {
  std::lock_guard lock(mutex_);
  put_->reset();
  put_->bind(1, message.topic);
  put_->bind_blob(2, message.payload);
  put_->bind(3, std::int64_t{message.qos});
  if (message.user_properties) {
    put_->bind(4, *message.user_properties);
  } else {
    put_->bind_null(4);
  }
  put_->bind(5, message.last_modified_ms);
  put_->step();
}

void RetainedStore::erase(const std::string& topic) {
  std::lock_guard lock(mutex_);
  erase_->reset();
  erase_->bind(1, topic);
  erase_->step();
}

std::optional<RetainedMessage> RetainedStore::get(const std::string& topic) {
  std::lock_guard lock(mutex_);
  get_->reset();
  get_->bind(1, topic);
  if (!get_->step()) return std::nullopt;
  RetainedMessage message;
  message.topic = topic;
  message.payload = get_->column_text(0);
  message.qos = static_cast<int>(get_->column_int(1));
  if (!get_->column_is_null(2)) message.user_properties = get_->column_text(2);
  message.last_modified_ms = get_->column_int(3);
  get_->reset();
  return message;
}

RetainedPage RetainedStore::list(const std::string& from, int limit) {
  std::lock_guard lock(mutex_);
  list_->reset();
  list_->bind(1, from);
  list_->bind(2, std::int64_t{limit} + 1);  // one more tells whether a next page exists
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

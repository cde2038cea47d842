// What the console's Activity page shows: the last requests offcloud served,
// and the rules engine's failures, in a bounded ring in memory (the oldest
// entry makes room for the newest). Fed from the request path, so record()
// is one swap of a struct under a short mutex, and an entry holds facts
// (the reason's kind and values), never sentences: the console words them
// in its reader's language. Readers poll by sequence number: each asks for
// what came after the last entry it saw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/auth/credential_store.h"

namespace offcloud {

struct ActivityEntry {
  std::uint64_t seq = 0;     // set by record(): 1, 2, 3, ...
  std::int64_t time_ms = 0;  // epoch milliseconds; record() sets it when 0
  // Whose activity it is: the caller's account, or for a refused signature
  // the account of the access key it named. Empty: nobody's (an unknown
  // key, no signature), which only the built-in root sees.
  std::string account_id;
  std::string caller_arn;  // the caller, or the named key's owner
  std::string access_key_id;
  std::string source;  // the client's "ip:port"; "rules engine" for a rule's failure
  std::string service;
  std::string operation;
  std::string resource;  // the ARN IAM was asked about, else the request path
  int status = 0;        // the HTTP status; 0 for what was no request
  std::string error_code;
  // Why it failed: null, or {"kind": "...", facts...} (activity_reasons.h).
  nlohmann::json reason;
};

// Who is reading, and so which entries they see: the built-in root key
// (test/test) sees every account's (a teacher's view of a classroom), an
// account's root its account's, any other principal its own.
struct ActivityViewer {
  bool everything = false;
  std::string account_id;
  std::string arn;  // empty: the whole account

  static ActivityViewer of(const Principal& principal);
  bool sees(const ActivityEntry& entry) const;
};

class ActivityLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 2000;
  // The longest resource and reason text kept, so the ring's memory stays
  // bounded whatever the requests carry.
  static constexpr std::size_t kMaxFieldBytes = 2048;

  explicit ActivityLog(std::size_t capacity = kDefaultCapacity);

  // Callable from any thread.
  void record(ActivityEntry entry);

  struct Page {
    std::vector<ActivityEntry> entries;  // oldest first
    // What to ask after next time: the newest entry, seen or not. A reader
    // asking after a number the log has not reached (it restarted) starts
    // again from the beginning.
    std::uint64_t last_seq = 0;
    // Some of the viewer's entries after `after` are not here: overwritten,
    // or older than the newest `limit`.
    bool missed = false;
  };
  // The newest `limit` of the viewer's entries after `after`, oldest first.
  Page since(std::uint64_t after, const ActivityViewer& viewer, std::size_t limit) const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<ActivityEntry> ring_;  // grows to capacity_, then wraps
  std::uint64_t next_seq_ = 1;
};

// `text` cut to at most `max_bytes`, on a UTF-8 character boundary.
std::string truncate_utf8(std::string text, std::size_t max_bytes);

}  // namespace offcloud

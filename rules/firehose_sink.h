// Where the rules engine's firehose action delivers: the Firehose service
// implements this and registers itself with RulesEngine::set_firehose_sink.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rules/message_bus.h"

namespace offcloud {

class FirehoseSink {
 public:
  virtual ~FirehoseSink() = default;
  using Done = std::function<void(bool durable)>;
  // Queues `records` (separators already added) for `stream` of the rule's
  // account and region (`scope`), all or nothing, as PutRecordBatch would; `done` runs, on any
  // thread, once they are durable or could not be written. Returns false, and never runs `done`,
  // when they are refused at once (no such stream); `error` says why.
  virtual bool put_records(const AccountRegion& scope, const std::string& stream,
                           std::vector<std::string> records, Done done, std::string* error) = 0;
};

}  // namespace offcloud

// Where the rules engine's firehose action delivers: the Firehose service
// implements this and registers itself with RulesEngine::set_firehose_sink.
#pragma once

#include <string>
#include <vector>

namespace offcloud {

class FirehoseSink {
 public:
  virtual ~FirehoseSink() = default;
  // Appends `records` (separators already added) to `stream`, all or
  // nothing, as PutRecordBatch would. On failure returns false and says why
  // in `error`, e.g. that no such stream exists.
  virtual bool put_records(const std::string& stream, std::vector<std::string> records,
                           std::string* error) = 0;
};

}  // namespace offcloud

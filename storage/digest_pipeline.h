// Runs several digests over one stream of chunks at once, each on a thread
// of its own, while the caller goes on (writing the next chunk to disk). A
// large PUT computes MD5 (its ETag), perhaps SHA-256 (a signed payload) and a
// CRC: one after the other on the connection's thread they cost their sum;
// here the upload goes at the pace of the slowest one alone.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace offcloud {

class DigestPipeline {
 public:
  using Update = std::function<void(std::string_view)>;
  // Each update sees every chunk, in order, on a thread of its own. At most
  // `max_chunks` chunks wait for any one of them: push() blocks beyond, so
  // memory stays bounded when the disk is faster than a hash.
  explicit DigestPipeline(std::vector<Update> updates, std::size_t max_chunks = 8);
  ~DigestPipeline();  // finish()es
  DigestPipeline(const DigestPipeline&) = delete;
  DigestPipeline& operator=(const DigestPipeline&) = delete;

  void push(std::string chunk);
  // A chunk every update is done with, for the caller to fill again (its
  // memory already faulted in); "" when none is yet.
  std::string reclaim();
  // Returns once every update has seen every chunk pushed.
  void finish();

 private:
  struct Lane {
    Update update;
    std::size_t next = 0;  // the push number of the next chunk it hashes
    std::thread thread;
  };
  void run(Lane& lane);
  // Under mutex_: moves the chunks every lane is past to finished_.
  void retire();
  std::size_t slowest() const;  // under mutex_: the lowest Lane::next

  std::size_t max_chunks_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool closing_ = false;
  std::deque<std::string> chunks_;  // pushed and not yet retired; stable references
  std::size_t first_ = 0;           // push number of chunks_.front()
  std::size_t pushed_ = 0;
  std::vector<std::string> finished_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace offcloud

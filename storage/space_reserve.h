// Ballast for a full disk. Freeing space on a full disk takes a little
// space first: SQLite appends the DELETE to its write-ahead log before the
// blob can go. A SpaceReserve holds that little back in a file of its own
// and gives it up to the one operation that needs it, so that deleting
// objects works on a disk that writes have filled.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "storage/database.h"

namespace offcloud {

class SpaceReserve {
 public:
  // Claims `bytes` at `path` now if the disk has them (else later).
  SpaceReserve(std::string path, std::uint64_t bytes);

  // Runs `operation`; if it fails for want of space, releases the reserve
  // and runs it once more. The reserve is claimed again once there is room.
  template <typename Operation>
  auto run(Operation&& operation) -> decltype(operation()) {
    refill();
    try {
      return operation();
    } catch (const StorageError& error) {
      if (!error.no_space() || !release()) throw;
    }
    return operation();
  }

 private:
  // False if the reserve was already released.
  bool release();
  void refill();

  std::string path_;
  std::uint64_t bytes_;
  std::mutex mutex_;
  bool held_ = false;
};

}  // namespace offcloud

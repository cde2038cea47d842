#include "storage/space_reserve.h"

#include <fcntl.h>
#include <unistd.h>

namespace offcloud {

SpaceReserve::SpaceReserve(std::string path, std::uint64_t bytes)
    : path_(std::move(path)), bytes_(bytes) {
  refill();
}

bool SpaceReserve::release() {
  std::lock_guard lock(mutex_);
  if (!held_) return false;
  held_ = ::truncate(path_.c_str(), 0) != 0;
  return !held_;
}

void SpaceReserve::refill() {
  std::lock_guard lock(mutex_);
  if (held_) return;
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  // posix_fallocate really allocates the blocks (a sparse file would not
  // hold anything back); on a disk still full, the file stays empty.
  held_ = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes_)) == 0;
  if (!held_) (void)::ftruncate(fd, 0);
  ::close(fd);
}

}  // namespace offcloud

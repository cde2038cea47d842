// What several fuzz targets share: a scratch data directory for the services
// that need storage, removed when the fuzzer exits.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace offcloud::fuzz {

// One per process, made on first use under $TMPDIR.
inline const std::string& scratch_dir() {
  // Never destroyed: the exit handler that removes the directory runs after
  // static destructors would have run.
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/offcloud-fuzz-data.XXXXXX";
    if (!mkdtemp(pattern.data())) std::abort();
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return new std::string(pattern);
  }();
  return *dir;
}

}  // namespace offcloud::fuzz

// ObjectStore::put_object_later: PUTs committed in groups on a thread of
// the store's own. Each small PUT committed alone paid a transaction (BEGIN,
// its WAL frames written one by one, COMMIT) under the store's lock, and
// the network threads queued for that lock; in a group, frames that several
// writes touch (the inline blobs' last page, the database header) are
// written once, and the network threads go on serving while it commits.
#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {

using namespace detail;

ObjectStore::~ObjectStore() {
  {
    std::lock_guard lock(commit_mutex_);
    commit_stopping_ = true;
  }
  commit_changed_.notify_all();
  if (committer_.joinable()) committer_.join();
}

void ObjectStore::put_object_later(const std::string& bucket, ObjectInfo info, BlobWriter& blob,
                                   WriteCondition condition, Committed done) {
  info.size = blob.size();
  if (info.etag.empty()) info.etag = blob.md5_hex();
  info.delete_marker = false;
  {
    std::lock_guard lock(commit_mutex_);
    if (!committer_.joinable()) committer_ = std::thread([this] { commit_loop(); });
    commit_queue_.push_back(
        {bucket, std::move(info), &blob, std::move(condition), std::move(done)});
  }
  commit_changed_.notify_all();
}

void ObjectStore::finish_commits() {
  std::unique_lock lock(commit_mutex_);
  commit_changed_.wait(lock, [this] { return commit_queue_.empty() && !committing_; });
}

void ObjectStore::commit_loop() {
  for (;;) {
    std::deque<LaterPut> batch;
    {
      std::unique_lock lock(commit_mutex_);
      commit_changed_.wait(lock, [this] { return commit_stopping_ || !commit_queue_.empty(); });
      if (commit_queue_.empty()) return;  // stopping, and nothing left
      batch.swap(commit_queue_);
      committing_ = true;
    }
    std::vector<Status> statuses(batch.size(), Status::kOk);
    std::vector<std::exception_ptr> errors(batch.size());
    std::vector<std::string> unreferenced;
    try {
      std::lock_guard lock(mutex_);
      Transaction transaction(db_);
      std::int64_t now = now_ms();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        LaterPut& put = batch[i];
        put.info.last_modified_ms = now;
        statuses[i] = write_object(put.bucket, &put.info, put.condition, put.blob, &unreferenced);
      }
      transaction.commit();
    } catch (const std::exception&) {
      // One of them failed (a full disk, say), and the group rolled back:
      // each again on its own, so that only what fails fails.
      unreferenced.clear();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        LaterPut& put = batch[i];
        try {
          statuses[i] = commit_object(put.bucket, &put.info, put.condition, put.blob);
        } catch (const std::exception&) {
          errors[i] = std::current_exception();
        }
      }
    }
    // After the commit: a crash before this line leaves only garbage.
    for (const std::string& blob : unreferenced) remove_blob(blob);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      LaterPut& put = batch[i];
      if (!errors[i] && statuses[i] == Status::kOk) put.blob->release();
      try {
        put.done(statuses[i], std::move(put.info), errors[i]);
      } catch (...) {
        // An answer that could not be sent costs that request only.
      }
    }
    {
      std::lock_guard lock(commit_mutex_);
      committing_ = false;
    }
    commit_changed_.notify_all();
  }
}

}  // namespace offcloud

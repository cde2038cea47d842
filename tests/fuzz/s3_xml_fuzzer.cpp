// S3's XML request bodies, through the real S3Service on a scratch object
// store: the input is the body of a DeleteObjects (POST /bucket?delete), a
// CompleteMultipartUpload (POST /bucket/key?uploadId=...) and a CreateBucket
// (PUT /bucket with a CreateBucketConfiguration) and a RestoreObject
// (POST /bucket/key?restore). The store holds a bucket
// with two objects and an upload of two small parts, "part one" and "part
// two" (ETags 3303e12af474ca11d85ed2966a932992 and
// 3ea4e15b91a17dc76052c56cfcdf67a2, as the seeds name them); whatever an input
// deletes, completes or creates is put back before the next, so each input
// meets the same state. Every answer must be a 2xx-4xx: a 5xx means the
// service threw on the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "emulator/s3/s3_service.h"
#include "tests/fuzz/fuzz_support.h"

namespace offcloud {
namespace {

constexpr const char* kBucket = "fuzz";
constexpr const char* kNewBucket = "fuzz-created";
constexpr const char* kKeys[] = {"a.txt", "dir/b.json"};

class Fixture {
 public:
  Fixture() : store_(fuzz::scratch_dir() + "/s3"), service_(store_) {
    store_.create_bucket(kBucket, "us-east-1", "000000000000");
  }

  // Puts back what the last input changed.
  void reset() {
    for (const char* key : kKeys) {
      if (store_.head_object(kBucket, key)) continue;
      ObjectInfo info;
      info.key = key;
      put([&](BlobWriter& blob) { store_.put_object(kBucket, info, blob); }, "object bytes");
    }
    if (upload_id_.empty() || !store_.upload(kBucket, upload_id_)) {
      ObjectInfo attributes;
      attributes.key = "upload.bin";
      upload_id_ = *store_.create_upload(kBucket, attributes, std::nullopt);
      int number = 1;
      for (const char* bytes : {"part one", "part two"}) {
        PartInfo part;
        part.number = number++;
        put([&](BlobWriter& blob) { store_.put_part(upload_id_, part, blob); }, bytes);
      }
    }
    if (store_.bucket(kNewBucket)) store_.delete_bucket(kNewBucket);
  }

  HttpResponse call(std::string method, std::string target, std::string_view body) {
    HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    split_target(&request);
    request.headers.add("Host", "127.0.0.1:4566");
    request.body = std::string(body);
    request.remote_address = "127.0.0.1:50000";
    RequestContext context;
    context.request_id = "fuzz";
    context.principal.is_root = true;
    context.region = "us-east-1";
    context.query = *parse_query(request.query);
    HttpResponse response;
    bool replied = false;
    service_.handle(request, context, [&](HttpResponse answer) {
      response = std::move(answer);
      replied = true;
    });
    if (!replied) fail(request.method + " " + request.target + ": no reply", response);
    if (response.status < 200 || response.status >= 500) {
      fail(request.method + " " + request.target + ": status " + std::to_string(response.status),
           response);
    }
    return response;
  }

  const std::string& upload_id() const { return upload_id_; }

 private:
  template <typename Commit>
  void put(Commit commit, std::string_view bytes) {
    auto blob = store_.new_blob();
    blob->write(bytes);
    blob->close();
    commit(*blob);
  }

  [[noreturn]] static void fail(const std::string& why, const HttpResponse& response) {
    std::fprintf(stderr, "s3_xml_fuzzer: %s\n%.2000s\n", why.c_str(), response.body.c_str());
    std::abort();
  }

  ObjectStore store_;
  S3Service service_;
  std::string upload_id_;
};

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static Fixture* fixture = new Fixture();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  fixture->reset();
  fixture->call("POST", std::string("/") + kBucket + "?delete", body);
  fixture->call("POST", std::string("/") + kBucket + "/upload.bin?uploadId=" + fixture->upload_id(),
                body);
  fixture->call("PUT", std::string("/") + kNewBucket, body);
  fixture->call("POST", std::string("/") + kBucket + "/" + kKeys[0] + "?restore", body);
  return 0;
}

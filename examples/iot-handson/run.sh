#!/usr/bin/env bash
# The AWS IoT hands-on, offline: device -> IoT topic -> rule -> Firehose -> S3,
# the device publishing with its own key, allowed only handson/* topics.
# Against a running offcloud, with the aws CLI for the setup and
# offcloud-publish as the device. Safe to run again: it reuses what exists.
#
#   build/bin/offcloud --firehose-max-interval 5 &    # deliver after 5 s, not 60
#   examples/iot-handson/run.sh
#
# Environment (all optional): AWS_ENDPOINT_URL (http://127.0.0.1:4566),
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (test / test), AWS_REGION
# (ap-northeast-1), OFFCLOUD_PUBLISH (offcloud-publish on PATH, else
# build/bin/offcloud-publish), HANDSON_BUCKET (offcloud-handson),
# HANDSON_WAIT_S (seconds to wait for delivery, 90).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-ap-northeast-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_PAGER=""
publish="${OFFCLOUD_PUBLISH:-$(command -v offcloud-publish || echo "$repo/build/bin/offcloud-publish")}"
bucket="${HANDSON_BUCKET:-offcloud-handson}"
stream="handson-stream"
rule="handsonToFirehose"
topic="handson/analysisLogData"
policy="handson_iot_publish_policy"
user="handson_iot_publish_user"
wait_s="${HANDSON_WAIT_S:-90}"

aws_() { aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
step() { echo "== $*" >&2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "bucket s3://$bucket"
aws_ s3api head-bucket --bucket "$bucket" >/dev/null 2>&1 || aws_ s3 mb "s3://$bucket" >&2

step "delivery stream $stream (5 MB / 60 s buffer)"
if ! aws_ firehose describe-delivery-stream --delivery-stream-name "$stream" >/dev/null 2>&1; then
  cat >"$work/destination.json" <<JSON
{"RoleARN": "arn:aws:iam::000000000000:role/firehose-delivery",
 "BucketARN": "arn:aws:s3:::$bucket",
 "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
 "CompressionFormat": "UNCOMPRESSED"}
JSON
  aws_ firehose create-delivery-stream --delivery-stream-name "$stream" \
    --delivery-stream-type DirectPut \
    --extended-s3-destination-configuration "file://$work/destination.json" >/dev/null
fi
until [ "$(aws_ firehose describe-delivery-stream --delivery-stream-name "$stream" \
            --query DeliveryStreamDescription.DeliveryStreamStatus --output text)" = ACTIVE ]; do
  sleep 1
done

step "rule $rule: SELECT * FROM '$topic' -> firehose $stream"
cat >"$work/rule.json" <<JSON
{"sql": "SELECT * FROM '$topic'", "awsIotSqlVersion": "2016-03-23",
 "actions": [{"firehose": {"deliveryStreamName": "$stream", "separator": "\\n",
                           "roleArn": "arn:aws:iam::000000000000:role/iot-firehose"}}]}
JSON
if aws_ iot get-topic-rule --rule-name "$rule" >/dev/null 2>&1; then
  aws_ iot replace-topic-rule --rule-name "$rule" --topic-rule-payload "file://$work/rule.json"
else
  aws_ iot create-topic-rule --rule-name "$rule" --topic-rule-payload "file://$work/rule.json"
fi

step "policy $policy, user $user and the device's access key (step 4-4)"
account="$(aws_ sts get-caller-identity --query Account --output text)"
policy_arn="arn:aws:iam::$account:policy/$policy"
# The hands-on's policy, verbatim: connect, and publish to handson/* only.
cat >"$work/policy.json" <<'JSON'
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "iot:Connect",
                "iot:Publish"
            ],
            "Resource": [
                "arn:aws:iot:ap-northeast-1:*:topic/handson/*",
                "arn:aws:iot:*:*:client/*"
            ]
        }
    ]
}
JSON
aws_ iam get-policy --policy-arn "$policy_arn" >/dev/null 2>&1 ||
  aws_ iam create-policy --policy-name "$policy" --policy-document "file://$work/policy.json" >/dev/null
aws_ iam get-user --user-name "$user" >/dev/null 2>&1 || aws_ iam create-user --user-name "$user" >/dev/null
aws_ iam attach-user-policy --user-name "$user" --policy-arn "$policy_arn"
# A fresh device key on every run (IAM allows two per user).
for old_key in $(aws_ iam list-access-keys --user-name "$user"                    --query 'AccessKeyMetadata[].AccessKeyId' --output text); do
  aws_ iam delete-access-key --user-name "$user" --access-key-id "$old_key"
done
read -r device_key device_secret < <(aws_ iam create-access-key --user-name "$user"   --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

list_keys() { aws_ s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output text; }
before="$(list_keys)"

step "publishing three records to $topic with the device's key"
AWS_ACCESS_KEY_ID="$device_key" AWS_SECRET_ACCESS_KEY="$device_secret" AWS_SESSION_TOKEN= \
  "$publish" --endpoint "$AWS_ENDPOINT_URL" --topic "$topic" --qos 1 <<'RECORDS'
{"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22, "AgeRange-High": 34, "Gender": "Female", "Smile": true, "Calm": 72.5}
{"timestamp": "2021-01-10 15:41:43", "face_id": 1, "AgeRange-Low": 22, "AgeRange-High": 34, "Gender": "Male", "Smile": false, "Calm": 72.5}
{"timestamp": "2021-01-10 15:41:43", "face_id": 2, "AgeRange-Low": 22, "AgeRange-High": 34, "Gender": "Female", "Smile": false, "Calm": 72.5}
RECORDS

step "waiting up to $wait_s s for Firehose to deliver (offcloud --firehose-max-interval shortens it)"
deadline=$((SECONDS + wait_s))
while :; do
  new_key=""
  for key in $(list_keys); do
    [ "$key" = None ] && continue
    case " $(echo $before) " in *" $key "*) ;; *) new_key="$key" ;; esac
  done
  [ -n "$new_key" ] && break
  if [ $SECONDS -ge $deadline ]; then
    echo "nothing delivered to s3://$bucket within $wait_s s" >&2
    exit 1
  fi
  sleep 1
done

step "s3://$bucket/$new_key"
aws_ s3 cp "s3://$bucket/$new_key" -

#!/usr/bin/env bash
# Launch a check script the way Weir launches a glueetl job.
# usage: tests/spark/run.sh <runtime dir (e.g. /work/rt/spark-3.5.9)> <data dir> <script.py> [--KEY value ...]
set -euo pipefail
RT=$1; DATA=$2; SCRIPT=$3; shift 3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
S3=$DATA/s3
RUNDIR=$(mktemp -d /tmp/weir-glue-run.XXXXXX)
mounts=()
for b in "$S3"/*/; do
  [ -d "$b" ] || continue
  b=$(basename "$b")
  mounts+=(--conf "spark.hadoop.fs.viewfs.mounttable.$b.linkFallback=file://$S3/$b")
done
schemes=()
for s in s3 s3a s3n; do
  schemes+=(--conf spark.hadoop.fs.$s.impl=org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme
            --conf spark.hadoop.fs.viewfs.overload.scheme.target.$s.impl=org.apache.hadoop.fs.HarFileSystem
            --conf spark.hadoop.fs.$s.impl.disable.cache=true)
done
NAME=${JOB_NAME:-glue-lib-checks}
RUN_ID=${JOB_RUN_ID:-jr_$(date +%s%N)}
PYSPARK_PYTHON=$RT/bin/python PYTHONPATH=$REPO/crates/runner/python \
WEIR_S3_ROOT=$S3 WEIR_BOOKMARK_IN=$RUNDIR/bookmark-in.json WEIR_BOOKMARK_OUT=$RUNDIR/bookmark-out.json \
AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://127.0.0.1:5731} AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} \
AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} \
"$RT/bin/spark-submit" --master 'local[2]' --name "$NAME" \
  --conf spark.ui.enabled=false \
  --conf spark.hadoop.fs.file.impl=org.apache.hadoop.fs.RawLocalFileSystem \
  "${schemes[@]}" ${mounts[@]+"${mounts[@]}"} \
  "$SCRIPT" --JOB_NAME "$NAME" --JOB_RUN_ID "$RUN_ID" --job-bookmark-option job-bookmark-enable \
  --TempDir "s3://tmp/$NAME/" "$@"

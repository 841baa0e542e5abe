#!/bin/sh
# Run every target for $SECS seconds, two at a time (two workers); logs in logs/.
cd "$(dirname "$0")"
SECS=${SECS:-600}
mkdir -p logs
worker() {
  for t in "$@"; do
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 > "logs/$t.log" 2>&1
    echo "$t exit $?" >> logs/done
  done
}
worker head upgrade origin proxy &
worker room_path command_nick frame redis_record &
wait

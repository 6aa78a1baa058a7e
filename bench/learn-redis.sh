#!/bin/sh
# bench/learn-redis.sh [CORRESPONDENTS THREADS]: bench/learnbench's
# batched add on a private redis-server (127.0.0.1, a free port, no
# persistence, in a temporary directory, stopped by its PID).
set -e
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/learn-redis.XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
n=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
	n=$((n + 1))
	[ "$n" -lt 300 ] || { echo "learn-redis: no redis-server" >&2; exit 1; }
	sleep 0.1
done
LEARNBENCH_REDIS=$port bench/learnbench "$dir" "${1:-10000}" "${2:-100000}"

# Shared by the bench scripts (sourced): waiting for a `torchlight serve` started in the background.

# await_server LOG PID: prints the server's HTTP base URL once it answers /v2/health/ready (up to
# 5 minutes); fails, with the end of its log, if the server exits first.
await_server() {
  local log=$1 pid=$2 url=""
  for _ in $(seq 1 600); do
    url="$(grep -Eo 'on http://[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/^on //' || true)"
    if [ -n "$url" ] && curl -fs -o /dev/null "$url/v2/health/ready"; then
      echo "$url"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the server exited; its log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "the server did not become ready in 5 minutes: $log" >&2
  return 1
}

# Shared by the acceptance scripts beside it (sourced, not run): the
# processes a script starts, and bounded waits on what they print.

pids=()  # every background process the script started; stop_started ends them

stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# FILE REGEX SECONDS: prints the first matching line, or fails after SECONDS.
wait_line() {
  local deadline=$(( $(date +%s) + $3 )) line
  while (( $(date +%s) < deadline )); do
    if line=$(grep -m1 -E "$2" "$1" 2>/dev/null); then echo "$line"; return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for /$2/ in $1" >&2
  return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

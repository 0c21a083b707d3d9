#!/usr/bin/env bash
# `make restart-ws`: a rolling restart of the compose ws containers. One at a time: `docker restart` sends
# SIGTERM (the process drains: /api/health/ready answers 503, new upgrades get 503 and nginx hands them to
# another ws, open sockets are closed with 1001 and their clients reconnect there), then waits until the
# container's healthcheck (/api/health/ready) says healthy before the next. Needs two or more ws replicas
# (`docker compose up -d --scale ws=2`) for clients to have somewhere to go meanwhile.
set -euo pipefail
COMPOSE=${COMPOSE:-docker compose}
# the drain (SHUTDOWN_DRAIN_SECONDS) and the close must fit in docker's stop timeout
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
HEALTHY_TIMEOUT=${HEALTHY_TIMEOUT:-120}

# shellcheck disable=SC2086 # COMPOSE is a command with its arguments
containers=$($COMPOSE ps --quiet ws)
[ -n "$containers" ] || { echo "restart-ws: no ws containers running" >&2; exit 1; }
count=$(echo "$containers" | wc -l)
[ "$count" -ge 2 ] || echo "restart-ws: only one ws container: its clients wait for it to come back (scale ws to 2 or more)" >&2

for container in $containers; do
  name=$(docker inspect --format '{{.Name}}' "$container")
  echo "restart-ws: restarting ${name#/}"
  docker restart --time "$STOP_TIMEOUT" "$container" >/dev/null
  deadline=$((SECONDS + HEALTHY_TIMEOUT))
  until [ "$(docker inspect --format '{{.State.Health.Status}}' "$container")" = healthy ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "restart-ws: ${name#/} not healthy after ${HEALTHY_TIMEOUT} s; stopping here" >&2
      exit 1
    fi
    sleep 1
  done
  echo "restart-ws: ${name#/} ready"
done

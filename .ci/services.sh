#!/usr/bin/env bash
# Makes sure the services the tests need are running: RabbitMQ on 127.0.0.1:5672.
# Installs from Debian's packages when missing, starts when stopped, waits until ready.
set -euo pipefail

need_root() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

if ! command -v rabbitmqctl >/dev/null 2>&1; then
  echo "RabbitMQ not installed: installing rabbitmq-server from Debian's packages"
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq rabbitmq-server
fi
if ! rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; then
  echo "RabbitMQ not running: starting it (rabbitmq-server -detached)"
  rabbitmq-server -detached || true
  rabbitmqctl -q await_startup --timeout 180
fi
# the app may be stopped while the node runs (a broker-restart test interrupted)
rabbitmqctl -q start_app >/dev/null 2>&1 || true
rabbitmqctl -q await_startup --timeout 60
echo "RabbitMQ ready: $(rabbitmqctl -q version 2>/dev/null || echo '?')"

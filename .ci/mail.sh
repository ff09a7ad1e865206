#!/usr/bin/env bash
# Makes sure a real SMTP server is running for the e-mail tests: Postfix from Debian's packages,
# listening on 127.0.0.1:25 only, delivering local mail into Maildirs. Mail for
# gwmail+<anything>@localhost lands in /home/gwmail/Maildir/new (the tests read it there).
# Idempotent: installs only when missing, configures only what differs, starts when stopped.
set -euo pipefail

need_root() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

if ! command -v postfix >/dev/null 2>&1; then
  echo "Postfix not installed: installing postfix from Debian's packages"
  echo "postfix postfix/main_mailer_type select Local only" | need_root debconf-set-selections
  echo "postfix postfix/mailname string localhost" | need_root debconf-set-selections
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq postfix
fi

set_conf() { # key value: only rewrites main.cf when the value differs
  if [ "$(need_root postconf -h "$1" 2>/dev/null)" != "$2" ]; then
    need_root postconf -e "$1 = $2"
  fi
}
set_conf inet_interfaces loopback-only
set_conf inet_protocols ipv4
set_conf myhostname localhost
set_conf mydestination "localhost, localhost.localdomain"
set_conf mynetworks "127.0.0.0/8"
set_conf home_mailbox "Maildir/"
set_conf recipient_delimiter "+"
set_conf mailbox_size_limit 0
set_conf message_size_limit 52428800
set_conf relayhost ""
set_conf smtputf8_enable no

if ! id gwmail >/dev/null 2>&1; then
  need_root useradd --create-home --shell /usr/sbin/nologin gwmail
fi
need_root install -d -o gwmail -g gwmail -m 0755 /home/gwmail/Maildir /home/gwmail/Maildir/new /home/gwmail/Maildir/cur /home/gwmail/Maildir/tmp
# the tests read the delivered mails without being gwmail
need_root chmod 0755 /home/gwmail

if need_root postfix status >/dev/null 2>&1; then
  need_root postfix reload >/dev/null 2>&1 || true
else
  echo "Postfix not running: starting it"
  need_root postfix start
fi
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/25) 2>/dev/null; then
    echo "Postfix ready on 127.0.0.1:25 ($(postconf -h mail_version))"
    exit 0
  fi
  sleep 0.2
done
echo "Postfix did not open 127.0.0.1:25" >&2
exit 1

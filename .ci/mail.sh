#!/usr/bin/env bash
# Makes sure real mail servers are running for the e-mail tests, from Debian's packages:
# - Postfix on 127.0.0.1:25 only, delivering local mail into Maildirs. Mail for
#   gwmail+<anything>@localhost lands in /home/gwmail/Maildir/new (the tests read it there).
# - Dovecot IMAP on 127.0.0.1:143 and IMAPS on 127.0.0.1:993 only, serving those Maildirs; user gwimap (password
#   gwimap-test, loopback only) is the invoice inbox the IMAP reader tests log into.
#   gwdefer@localhost is always answered 450 (temporary), nosuchuser@localhost 550.
# - STARTTLS on the same port, with a certificate for localhost signed by a test CA
#   (/etc/postfix/gateway-test-tls/ca.pem).
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
# gwdefer@localhost is always answered 450 (a temporary failure), for the retry test
set_conf smtpd_recipient_restrictions "check_recipient_access inline:{ { gwdefer@localhost = 450 4.2.0 mailbox busy, try again later } }, permit_mynetworks, reject_unauth_destination"

# STARTTLS on port 25 with a certificate for "localhost" from a test CA made here (the tests
# trust /etc/postfix/gateway-test-tls/ca.pem through [mailbox.smtp] ca_file).
tlsdir=/etc/postfix/gateway-test-tls
if [ ! -s "$tlsdir/server.pem" ] || [ ! -s "$tlsdir/ca.pem" ]; then
  command -v openssl >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq openssl
  need_root mkdir -p "$tlsdir"
  ext=$(mktemp)
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' > "$ext"
  need_root openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=coupa-gateway test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tlsdir/ca.key" -out "$tlsdir/ca.pem" 2>/dev/null
  need_root openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tlsdir/server.key" -out "$tlsdir/server.csr" 2>/dev/null
  need_root openssl x509 -req -in "$tlsdir/server.csr" -CA "$tlsdir/ca.pem" -CAkey "$tlsdir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$ext" -out "$tlsdir/server.pem" 2>/dev/null
  rm -f "$ext"
  need_root chmod 0644 "$tlsdir/ca.pem" "$tlsdir/server.pem"
  need_root chmod 0600 "$tlsdir/server.key" "$tlsdir/ca.key"
fi
set_conf smtpd_tls_cert_file "$tlsdir/server.pem"
set_conf smtpd_tls_key_file "$tlsdir/server.key"
set_conf smtpd_tls_security_level may
set_conf smtpd_tls_received_header yes

if ! id gwmail >/dev/null 2>&1; then
  need_root useradd --create-home --shell /usr/sbin/nologin gwmail
fi
need_root install -d -o gwmail -g gwmail -m 0755 /home/gwmail/Maildir /home/gwmail/Maildir/new /home/gwmail/Maildir/cur /home/gwmail/Maildir/tmp
# the tests read the delivered mails without being gwmail
need_root chmod 0755 /home/gwmail

if ! id gwimap >/dev/null 2>&1; then
  need_root useradd --create-home --shell /usr/sbin/nologin gwimap
fi
need_root install -d -o gwimap -g gwimap -m 0700 /home/gwimap/Maildir /home/gwimap/Maildir/new /home/gwimap/Maildir/cur /home/gwimap/Maildir/tmp

if need_root postfix status >/dev/null 2>&1; then
  need_root postfix reload >/dev/null 2>&1 || true
else
  echo "Postfix not running: starting it"
  need_root postfix start
fi
wait_port() { # port name
  for _ in $(seq 1 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then
      echo "$2 ready on 127.0.0.1:$1"
      return 0
    fi
    sleep 0.2
  done
  echo "$2 did not open 127.0.0.1:$1" >&2
  return 1
}
wait_port 25 "Postfix $(postconf -h mail_version)"

if ! command -v dovecot >/dev/null 2>&1; then
  echo "Dovecot not installed: installing dovecot-imapd from Debian's packages"
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq dovecot-imapd
fi
conf=/etc/dovecot/local.conf
want=$(cat <<CONF
# written by coupa-gateway .ci/mail.sh: loopback-only IMAP for the e-mail tests
listen = 127.0.0.1
protocols = imap
mail_location = maildir:~/Maildir
disable_plaintext_auth = no
ssl = yes
ssl_cert = <$tlsdir/server.pem
ssl_key = <$tlsdir/server.key
auth_mechanisms = plain login
# no brute-force penalty for loopback: a test's deliberate wrong password must not slow the
# reader tests that log in every few milliseconds
login_trusted_networks = 127.0.0.0/8
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u /etc/dovecot/gateway-test.passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u /etc/dovecot/gateway-test.passwd
}
CONF
)
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
  printf '%s\n' "$want" | need_root tee "$conf" >/dev/null
fi
uid=$(id -u gwimap); gid=$(id -g gwimap)
line="gwimap:{PLAIN}gwimap-test:$uid:$gid::/home/gwimap::"
if [ "$(cat /etc/dovecot/gateway-test.passwd 2>/dev/null)" != "$line" ]; then
  printf '%s\n' "$line" | need_root tee /etc/dovecot/gateway-test.passwd >/dev/null
  need_root chmod 0640 /etc/dovecot/gateway-test.passwd
  need_root chown root:dovecot /etc/dovecot/gateway-test.passwd
fi
if need_root doveadm service status >/dev/null 2>&1 || pgrep -x dovecot >/dev/null 2>&1; then
  need_root doveadm reload >/dev/null 2>&1 || true
else
  echo "Dovecot not running: starting it"
  need_root dovecot
fi
wait_port 143 "Dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1)"
wait_port 993 "Dovecot IMAPS"

#!/usr/bin/env bash
# scripts/smtp-sink.sh: a real SMTP server for the tests (PyPI's aiosmtpd), storing every mail
# it receives in a Maildir. The gateway's registration test starts it itself.
#
#   scripts/smtp-sink.sh HOST:PORT MAILDIR     serves until killed
#
# 1. Installs aiosmtpd, pinned, into .venv-smtp/ (git-ignored) when it is missing: only
#    python3 with its venv module and a reachable package index are needed. Concurrent callers
#    wait for one install (flock).
# 2. Runs `python -m aiosmtpd` with its own Mailbox handler: each mail a file in MAILDIR/new/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

AIOSMTPD_VERSION=1.4.6
venv=.venv-smtp
listen=${1:?usage: scripts/smtp-sink.sh HOST:PORT MAILDIR}
maildir=${2:?usage: scripts/smtp-sink.sh HOST:PORT MAILDIR}

(
    flock 9
    if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
        printf '==== installing aiosmtpd %s into %s\n' "$AIOSMTPD_VERSION" "$venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION" >&2
    fi
) 9>"$venv.lock"

exec "$venv/bin/python" -m aiosmtpd -n -l "$listen" -c aiosmtpd.handlers.Mailbox "$maildir"

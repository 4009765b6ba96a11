"""A real IMAP server (Debian's dovecot) on loopback, from a configuration in a temp folder.

Without ``dovecot`` the IMAP tests are skipped locally (install: ``apt-get install
dovecot-imapd``; ``make test`` does it as root) and fail with ``HUIZONG_REQUIRE_IMAP=1``
(CI, set by ``.ci/run``).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "office@example.org", "s3cret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dovecot:
    """One dovecot master in the foreground, started and stopped by the test."""

    root: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"imap://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.root / "master.log", "ab")  # noqa: SIM115 (kept for the process)
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen: {(self.root / 'dovecot.log').read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        return imap


def _config(root: Path, port: int) -> None:
    if os.geteuid() == 0:
        internal, login, mail_user = "dovecot", "dovenull", "dovecot"
    else:
        internal = login = mail_user = pwd.getpwuid(os.geteuid()).pw_name
    uid = pwd.getpwnam(mail_user).pw_uid
    for sub in ("base", "state", "mail"):
        (root / sub).mkdir()
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "dovecot.conf").write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = {min(uid, 100)}
first_valid_gid = 1
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
  default_fields = uid={mail_user} gid={mail_user} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
    )
    if os.geteuid() == 0:
        shutil.chown(root / "mail", mail_user, mail_user)
        shutil.chown(root / "state", mail_user, mail_user)
        root.chmod(0o755)  # the mail user must reach its folder (the parent is /tmp)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if not Path(DOVECOT).exists():
        if os.environ.get("HUIZONG_REQUIRE_IMAP") == "1":
            pytest.fail("dovecot is not installed (HUIZONG_REQUIRE_IMAP=1)")
        pytest.skip("IMAP tests need dovecot: apt-get install dovecot-imapd")
    # its own folder in /tmp, not under pytest's (0700) tree: dovecot's users must reach it
    root = Path(tempfile.mkdtemp(prefix="huizong-dovecot-"))
    server = Dovecot(root=root, port=_free_port())
    try:
        _config(root, server.port)
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

#!/usr/bin/env python3
"""Bring up (and tear down) the services the tests need: MariaDB.

`up`: use the MariaDB/MySQL server at 127.0.0.1:3306 when reachable; otherwise, when running as
root, install Debian's mariadb-server and start it; otherwise stop with a message saying what to
install. Under CI=true a missing service fails the run (exit 1): it is never silently skipped.
`down`: stop only what `up` started. (Label Studio is started by the test session itself, see
tests/fixtures/labelstudio.py, so that `pytest` alone also works.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

STATE = Path(".test-services")
HOST, PORT = "127.0.0.1", int(os.environ.get("VIGIE_TEST_MYSQL_PORT", "3306"))


def mariadb_ok() -> bool:
    try:
        import pymysql
    except ImportError:
        return False
    try:
        conn = pymysql.connect(host=HOST, port=PORT, user="root", password="", connect_timeout=3)
    except Exception:
        return False
    conn.close()
    return True


def start_mariadb() -> bool:
    if os.geteuid() != 0:
        return False
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        print("services: installing mariadb-server (apt-get)...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        res = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "mariadb-server"], check=False, env=env
        )
        if res.returncode != 0:
            return False
    Path("/run/mysqld").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/mysqld", "mysql", "mysql")
    subprocess.run(
        [
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
            "--",
            "--user=mysql",
            f"--port={PORT}",
            "--bind-address=127.0.0.1",
        ],
        check=False,
    )
    for _ in range(60):
        if mariadb_ok():
            break
        # A fresh Debian install authenticates root by unix socket only: allow TCP, no password.
        subprocess.run(
            [
                "mariadb",
                "-uroot",
                "-e",
                "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('');"
                "CREATE DATABASE IF NOT EXISTS test; FLUSH PRIVILEGES;",
            ],
            check=False,
            capture_output=True,
        )
        time.sleep(1)
    ok = mariadb_ok()
    if ok:
        STATE.mkdir(exist_ok=True)
        (STATE / "mariadb.started").write_text("1")
    return ok


def up() -> int:
    if mariadb_ok():
        print(f"services: MariaDB reachable at {HOST}:{PORT}")
        return 0
    if start_mariadb():
        print(f"services: started MariaDB at {HOST}:{PORT}")
        return 0
    msg = (
        f"services: no MariaDB/MySQL at {HOST}:{PORT} and cannot start one "
        "(install it: apt-get install mariadb-server, then allow root on 127.0.0.1 without "
        "password, or set VIGIE_TEST_MYSQL_URL)"
    )
    print(msg, file=sys.stderr)
    if os.environ.get("CI", "").lower() in ("1", "true"):
        return 1
    print("services: tests that need MariaDB will be skipped (outside CI only)", file=sys.stderr)
    return 0


def down() -> int:
    marker = STATE / "mariadb.started"
    if marker.exists():
        subprocess.run(
            ["start-stop-daemon", "--stop", "--oknodo", "--exec", "/usr/sbin/mariadbd"],
            check=False,
        )
        marker.unlink()
        print("services: stopped the MariaDB started by `up`")
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "up"
    sys.exit({"up": up, "down": down}[cmd]())

"""Start and stop a private onestack for tests.

Used by the pytest suite (conftest.py) and by tests/interop/run.sh (through
the command line below). One place knows how a test cloud is made:

    $ONESTACK_BIN init  --data DIR --listen 127.0.0.1:PORT --admin-password ...
    $ONESTACK_BIN serve --data DIR

with the security-compliance settings that Tempest assumes, then wait until
GET /identity/v3 answers. Stopping sends SIGTERM and reports as a problem a
non-zero exit, a hang of more than 10 s, or sanitizer reports on stderr.

When ONESTACK_DATABASE_URL is set (PostgreSQL), every instance gets a fresh
database on that server (created next to the given one and dropped again),
so that several instances and repeated runs never share state.

ONESTACK_TEST_REFERENCE=keystone starts the real Keystone (Debian's Zed
package, under uwsgi, mounted at /identity as devstack does) with the same
settings instead of onestack: the suite's own check that its expectations are
Keystone's behaviour, not our reading of the docs. Give it PostgreSQL
(ONESTACK_DATABASE_URL=$(tests/pg.sh start)): on SQLite Keystone fails with
"database is locked" under load.

Command line:
    daemon.py exec [-e KEY=VALUE]... -- COMMAND [ARG]...
runs COMMAND with OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME,
OS_CLIENT_CONFIG_FILE and ONESTACK_TEST_DATA_DIR set for a fresh instance,
and exits with COMMAND's status (1 if the daemon itself misbehaved).
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN_PASSWORD = "secret-admin"

# What Tempest's identity tests assume (see shared/interop/run-interop.sh),
# and cheap bcrypt so that tests do not wait on password hashing.
DEFAULT_ENV = {
    "ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS": "4",
    "ONESTACK_SECURITY_COMPLIANCE_LOCKOUT_FAILURE_ATTEMPTS": "2",
    "ONESTACK_SECURITY_COMPLIANCE_LOCKOUT_DURATION": "5",
    "ONESTACK_SECURITY_COMPLIANCE_UNIQUE_LAST_PASSWORD_COUNT": "2",
    # API tests run servers on the fake virt driver; tests/e2e boots QEMU
    "ONESTACK_COMPUTE_VIRT_DRIVER": "fake",
}

SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error")
STOP_TIMEOUT = 10
READY_TIMEOUT = int(os.environ.get("ONESTACK_TEST_READY_TIMEOUT", "60"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_status(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return None


def _psql(url, sql):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise DaemonError("psql %r failed: %s" % (sql, r.stderr.strip()))


class DaemonError(RuntimeError):
    pass


class Daemon:
    """One private cloud. env: extra environment (ONESTACK_* settings)."""

    def __init__(self, binary=None, env=None, name="onestack", reference=None):
        self.binary = os.path.abspath(
            binary or os.environ.get("ONESTACK_BIN") or os.path.join(REPO, "build", "onestack"))
        self.name = name
        self.reference = reference if reference is not None else \
            os.environ.get("ONESTACK_TEST_REFERENCE", "")
        self.env = dict(os.environ)
        self.env.update(DEFAULT_ENV)
        self.env.update(env or {})
        self.proc = None
        self.port = None
        self.data_dir = None
        self.db_url = None          # PostgreSQL database made for this instance
        self._db_admin_url = None
        self._stderr = None
        self.admin_user = "admin"
        self.admin_password = ADMIN_PASSWORD
        self.admin_project = "admin"
        self.region = "RegionOne"

    # URLs ---------------------------------------------------------------
    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def identity_url(self):
        return self.base_url + "/identity"

    @property
    def auth_url(self):
        return self.identity_url + "/v3"

    @property
    def clouds_yaml(self):
        return os.path.join(self.data_dir, "clouds.yaml")

    @property
    def stderr_path(self):
        return os.path.join(self.data_dir, "stderr.log")

    def os_env(self):
        """Environment for clients (CLI, SDK, tempest) talking to this cloud."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.admin_user,
            "OS_PASSWORD": self.admin_password,
            "OS_PROJECT_NAME": self.admin_project,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": self.region,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_CLIENT_CONFIG_FILE": self.clouds_yaml,
            "ONESTACK_TEST_DATA_DIR": self.data_dir,
        }

    def sql(self, query):
        """Rows (lists of text) of one read-only query on this instance's
        database, for tests that check what is stored beside the API."""
        if self.db_url:
            r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v",
                                "ON_ERROR_STOP=1", self.db_url, "-c", query],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise DaemonError("psql %r failed: %s" % (query, r.stderr.strip()))
            return [line.split("\t") for line in r.stdout.splitlines() if line]
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data_dir, "onestack.db"),
                             uri=True, timeout=30)
        try:
            return [[None if v is None else str(v) for v in row]
                    for row in db.execute(query).fetchall()]
        finally:
            db.close()

    # start ----------------------------------------------------------------
    def start(self):
        self.data_dir = tempfile.mkdtemp(prefix="%s-test-" % self.name)
        self.port = free_port()
        if self.reference == "keystone":
            self._start_keystone()
        elif self.reference:
            raise DaemonError("unknown ONESTACK_TEST_REFERENCE=%r" % self.reference)
        else:
            self._start_onestack()
        self._wait_ready()
        return self

    def _fresh_database(self):
        url = self.env.get("ONESTACK_DATABASE_URL")
        if not url:
            return
        u = urllib.parse.urlsplit(url)
        if not u.scheme.startswith("postgres"):
            return
        base = u.path.lstrip("/") or "onestack_test"
        name = "%s_%d_%s" % (base, os.getpid(), secrets.token_hex(4))
        _psql(url, "CREATE DATABASE %s" % name)
        self._db_admin_url = url
        self.db_url = urllib.parse.urlunsplit(u._replace(path="/" + name))
        self.env["ONESTACK_DATABASE_URL"] = self.db_url

    def _start_onestack(self):
        if not os.access(self.binary, os.X_OK):
            raise DaemonError("daemon binary not found: %s (build it, or set ONESTACK_BIN)"
                              % self.binary)
        self._fresh_database()
        init = subprocess.run(
            [self.binary, "init", "--data", self.data_dir, "--listen",
             "127.0.0.1:%d" % self.port, "--admin-password", self.admin_password],
            env=self.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if init.returncode != 0:
            raise DaemonError("%s init failed (exit %d):\n%s%s" % (
                self.binary, init.returncode, init.stdout, init.stderr))
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data_dir],
            env=self.env, stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr)

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        url = self.auth_url
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonError("%s exited with %s before answering:\n%s" % (
                    self.name, self.proc.returncode, self.stderr_tail()))
            if _get_status(url) == 200:
                return
            time.sleep(0.1)
        raise DaemonError("%s did not answer GET %s within %d s:\n%s" % (
            self.name, url, READY_TIMEOUT, self.stderr_tail()))

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_tail(self, lines=40):
        return "\n".join(self.stderr_text().splitlines()[-lines:])

    # stop -----------------------------------------------------------------
    def stop(self):
        """Stops the daemon; returns a list of problems (empty when clean)."""
        problems = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("did not exit within %d s of SIGTERM" % STOP_TIMEOUT)
                self.proc.kill()
                self.proc.wait()
            rc = self.proc.returncode
            if rc != 0 and not self.reference:
                problems.append("exit status %s after SIGTERM (want 0)" % rc)
        elif self.proc is not None:
            problems.append("had already exited with status %s before the end of the tests"
                            % self.proc.returncode)
        if self._stderr:
            self._stderr.close()
            self._stderr = None
        if not self.reference:
            bad = [l for l in self.stderr_text().splitlines() if SANITIZER_RE.search(l)]
            if bad:
                problems.append("sanitizer reports on stderr:\n  " + "\n  ".join(bad[:20]))
        if self._db_admin_url and self.db_url:
            name = urllib.parse.urlsplit(self.db_url).path.lstrip("/")
            try:
                _psql(self._db_admin_url, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
            except (DaemonError, subprocess.SubprocessError, OSError) as e:
                problems.append("could not drop database %s: %s" % (name, e))
        if problems:
            problems = ["%s (data dir kept: %s): %s" % (self.name, self.data_dir, p)
                        for p in problems]
        elif self.data_dir and os.environ.get("ONESTACK_TEST_KEEP") != "1":
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return problems

    # reference Keystone -------------------------------------------------------
    def _keystone_conf(self):
        sections = {"identity": {}, "security_compliance": {}, "token": {}}
        for k, v in self.env.items():
            for sec in sections:
                prefix = "ONESTACK_%s_" % sec.upper()
                if k.startswith(prefix):
                    sections[sec][k[len(prefix):].lower()] = v
        d = self.data_dir
        # Keystone on SQLite fails with "database is locked" under the suite;
        # give it PostgreSQL (tests/pg.sh) when there is one.
        self._fresh_database()
        if self.db_url:
            db = "postgresql+psycopg2" + self.db_url[self.db_url.index(":"):]
        else:
            db = "sqlite:///%s/keystone.db" % d
        lines = ["[DEFAULT]", "log_dir = %s" % d, "log_file = keystone.log",
                 "[database]", "connection = %s" % db,
                 "[fernet_tokens]", "key_repository = %s/fernet-keys" % d,
                 "[credential]", "key_repository = %s/credential-keys" % d,
                 "[fernet_receipts]", "key_repository = %s/fernet-keys" % d]
        sections["token"].setdefault("provider", "fernet")
        for sec, kv in sections.items():
            lines.append("[%s]" % sec)
            lines.extend("%s = %s" % item for item in sorted(kv.items()))
        path = os.path.join(d, "keystone.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _start_keystone(self):
        conf = self._keystone_conf()
        d = self.data_dir
        os.makedirs(os.path.join(d, "fernet-keys"))
        os.makedirs(os.path.join(d, "credential-keys"))
        manage = ["keystone-manage", "--config-file", conf]
        steps = [
            ["db_sync"],
            ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
            ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
            ["bootstrap", "--bootstrap-password", self.admin_password,
             "--bootstrap-region-id", self.region,
             "--bootstrap-public-url", self.identity_url,
             "--bootstrap-internal-url", self.identity_url,
             "--bootstrap-admin-url", self.identity_url],
        ]
        for step in steps:
            r = subprocess.run(manage + step, cwd=d, capture_output=True, text=True,
                               timeout=300, stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                raise DaemonError("keystone-manage %s failed:\n%s" % (step[0], r.stderr[-3000:]))
        self._write_client_config()
        app = os.path.join(d, "keystone_app.py")   # uwsgi mounts only *.py files
        with open(app, "w") as f:
            f.write("from keystone.server.wsgi import initialize_public_application\n"
                    "application = initialize_public_application()\n")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            ["uwsgi_python3", "--http-socket", "127.0.0.1:%d" % self.port,
             "--add-header", "Connection: close",
             "--mount", "/identity=" + app, "--manage-script-name",
             "--master", "--die-on-term", "--enable-threads",
             "--processes", "2" if self.db_url else "1", "--threads", "4" if self.db_url else "1",
             "--env", "OS_KEYSTONE_CONFIG_FILES=%s" % conf],
            cwd=d, env=self.env, stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr)

    def _write_client_config(self):
        # Keystone does not write these; onestack init does.
        with open(self.clouds_yaml, "w") as f:
            f.write("clouds:\n  onestack:\n    auth:\n"
                    "      auth_url: %s\n      username: admin\n      password: %s\n"
                    "      project_name: admin\n      user_domain_name: Default\n"
                    "      project_domain_name: Default\n"
                    "    region_name: %s\n    identity_api_version: 3\n"
                    % (self.auth_url, self.admin_password, self.region))
        with open(os.path.join(self.data_dir, "openrc"), "w") as f:
            for k, v in self.os_env().items():
                if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE":
                    f.write("export %s=%s\n" % (k, v))


def _exec_main(argv):
    env = {}
    while argv and argv[0] != "--":
        if argv[0] == "-e" and len(argv) > 1 and "=" in argv[1]:
            k, v = argv[1].split("=", 1)
            env[k] = v
            argv = argv[2:]
        else:
            print("usage: daemon.py exec [-e KEY=VALUE]... -- COMMAND [ARG]...", file=sys.stderr)
            return 2
    cmd = argv[1:]
    if not cmd:
        print("daemon.py exec: no command", file=sys.stderr)
        return 2
    d = Daemon(env=env)
    try:
        d.start()
    except DaemonError as e:
        print("daemon.py: %s" % e, file=sys.stderr)
        d.stop()
        return 1
    print("daemon.py: %s on %s (data %s)" % (d.reference or d.binary, d.base_url, d.data_dir),
          file=sys.stderr, flush=True)
    child_env = dict(os.environ)
    child_env.update(d.os_env())
    try:
        rc = subprocess.call(cmd, env=child_env)
    except KeyboardInterrupt:
        rc = 130
    problems = d.stop()
    for p in problems:
        print("daemon.py: %s" % p, file=sys.stderr)
    if problems and rc == 0:
        rc = 1
    return rc


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "exec":
        sys.exit(_exec_main(sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)

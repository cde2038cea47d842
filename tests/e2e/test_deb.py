"""Builds the Debian package with scripts/package and installs it into a
fresh container of the image's base (Debian minbase, no systemd): offcloud
started as the unit starts it (its ExecStart, WorkingDirectory and User)
takes a message; `dpkg -r` leaves only the state (and the config, a
conffile, as dpkg keeps every package's); `dpkg --purge` removes those too.

Run: python3 tests/e2e/test_deb.py -v   (needs podman or a docker daemon)
"""

import gzip
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import containers  # noqa: E402
import harness  # noqa: E402

UNIT = "/lib/systemd/system/offcloud.service"
CONFIG = "/etc/offcloud/config.json"
STATE = "/var/lib/offcloud"


def project_version():
    with open(os.path.join(harness.REPO_ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(offcloud VERSION (\S+)", f.read()).group(1)


class DebPackageTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="offcloud-deb-")
        cls.deb = containers.script("package", "--out", cls.tmp, timeout=1800).strip()
        containers.script("image", "--base", timeout=900)
        cls.container = "offcloud-deb-%d-%d" % (os.getpid(), int(time.time()))

    @classmethod
    def tearDownClass(cls):
        containers.remove_container(cls.container)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dpkg_deb(self, *args):
        return subprocess.run(["dpkg-deb"] + list(args) + [self.deb], capture_output=True,
                              check=True).stdout

    def sh(self, command, check=True, user=None, detach=False):
        options = ["--user", user] if user else []
        return containers.run("exec", *(["-d"] if detach else []), *options, self.container,
                              "sh", "-c", command, check=check)

    def test_package_holds_the_binaries_unit_config_and_man_page(self):
        self.assertEqual(os.path.basename(self.deb), "offcloud_%s_amd64.deb" % project_version())
        files = {member.name.lstrip(".") for member in
                 tarfile.open(fileobj=io.BytesIO(self.dpkg_deb("--fsys-tarfile"))).getmembers()
                 if not member.isdir()}
        self.assertLessEqual({"/usr/bin/offcloud", "/usr/bin/offcloud-publish",
                              "/usr/bin/offcloud-loadgen", UNIT, CONFIG,
                              "/usr/share/man/man1/offcloud.1.gz"}, files)
        fields = self.dpkg_deb("--field").decode()
        self.assertRegex(fields, r"(?m)^Depends:.*\blibssl3\b")
        self.assertRegex(fields, r"(?m)^Depends:.*\blibsqlite3-0\b")
        self.assertIn(CONFIG, subprocess.run(
            ["dpkg-deb", "--info", self.deb, "conffiles"], capture_output=True, text=True,
            check=True).stdout)
        # The man page is --help: every option offcloud lists is in it.
        tar = tarfile.open(fileobj=io.BytesIO(self.dpkg_deb("--fsys-tarfile")))
        man = gzip.decompress(tar.extractfile("./usr/share/man/man1/offcloud.1.gz").read()).decode()
        help_text = subprocess.run([harness.offcloud_bin(), "--help"], capture_output=True,
                                   text=True, check=True).stdout
        options = re.findall(r"^  --([\w-]+)", help_text, re.M)
        self.assertGreater(len(options), 10)
        for option in options:
            self.assertIn("\\-\\-" + option.replace("-", "\\-"), man)

    def test_installs_runs_as_the_unit_and_removes_to_the_state(self):
        containers.run("run", "-d", "--name", self.container, *containers.engine()[1],
                       "-v", self.tmp + ":/pkg:ro", containers.base_image(), "sleep", "infinity")
        self.sh("dpkg -i /pkg/" + os.path.basename(self.deb))
        user = self.sh("getent passwd offcloud").stdout.split(":")
        self.assertLess(int(user[2]), 1000, "not a system user: %r" % user)
        self.assertEqual(user[6].strip(), "/usr/sbin/nologin")
        self.assertEqual(self.sh("stat -c %U " + STATE).stdout.strip(), "offcloud")

        # As systemd would: the unit's user, working directory and ExecStart.
        unit = dict(re.findall(r"^(\w+)=(.*)$", self.sh("cat " + UNIT).stdout, re.M))
        self.assertEqual(unit["StateDirectory"], "offcloud")
        self.sh("echo $$ >/tmp/offcloud.pid; cd %s && exec %s >/tmp/offcloud.log 2>&1"
                % (shlex.quote(unit["WorkingDirectory"]), unit["ExecStart"]),
                user=unit["User"], detach=True)
        deadline = time.monotonic() + 30
        while "listening on" not in self.sh("cat /tmp/offcloud.log", check=False).stdout:
            self.assertLess(time.monotonic(), deadline, self.sh("cat /tmp/offcloud.log",
                                                                check=False).stdout)
            time.sleep(0.3)
        # Only on loopback, as the default config says.
        self.assertIn("offcloud listening on http://127.0.0.1:4566",
                      self.sh("cat /tmp/offcloud.log").stdout)
        published = self.sh("AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
                            "offcloud-publish --topic deb/hello --qos 1 '{\"hello\": 1}'",
                            check=False)
        self.assertEqual(published.returncode, 0, published.stderr)
        self.sh("kill -TERM $(cat /tmp/offcloud.pid); "
                "while kill -0 $(cat /tmp/offcloud.pid) 2>/dev/null; do sleep 0.2; done")
        state = self.sh("find %s -type f -user offcloud" % STATE).stdout.split()
        self.assertTrue(state, "offcloud wrote no state in " + STATE)

        # dpkg -r: of the package's files only the conffile stays; the state stays.
        packaged = self.sh("dpkg -L offcloud").stdout.split()
        self.sh("dpkg -r offcloud")
        left = self.sh("for f in %s; do [ -d \"$f\" ] || [ ! -e \"$f\" ] || echo \"$f\"; done"
                       % " ".join(shlex.quote(f) for f in packaged)).stdout.split()
        self.assertEqual(left, [CONFIG])
        self.assertEqual(sorted(self.sh("find %s -type f" % STATE).stdout.split()), sorted(state))
        # dpkg --purge: config, state and user are gone.
        self.sh("dpkg --purge offcloud")
        self.assertEqual(self.sh("ls -d /etc/offcloud %s 2>/dev/null; getent passwd offcloud"
                                 % STATE, check=False).stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Container helpers for the image and package tests (test_image.py,
test_deb.py): the engine picked as scripts/image picks it, and commands run
through it."""

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import harness

ROOT = harness.REPO_ROOT


@functools.lru_cache(maxsize=None)
def engine():
    """(engine command, options for `run`): docker where its daemon answers,
    else podman with the options scripts/image explains (runc, cgroupfs,
    ulimits under a sandbox's hard limit)."""
    if shutil.which("docker") and subprocess.run(
            ["docker", "info"], capture_output=True).returncode == 0:
        return ("docker",), ()
    return (("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"),
            ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"))


def run(*args, check=True, timeout=120, input=None):
    """Runs the engine with args; returns the CompletedProcess (text)."""
    result = subprocess.run(list(engine()[0]) + list(args), capture_output=True, text=True,
                            input=input, timeout=timeout, stdin=None if input else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError("%s %s: exit %d\n%s%s" % (engine()[0][0], " ".join(args),
                             result.returncode, result.stdout[-2000:], result.stderr[-4000:]))
    return result


def script(name, *args, timeout):
    """Runs scripts/<name>; returns its stdout, and says how long it took."""
    start = time.monotonic()
    result = subprocess.run([os.path.join(ROOT, "scripts", name)] + list(args),
                            capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise AssertionError("scripts/%s: exit %d\n%s" % (name, result.returncode,
                                                          result.stderr[-6000:]))
    print("scripts/%s %s: %.0f s" % (name, " ".join(args), time.monotonic() - start),
          file=sys.stderr)
    return result.stdout


def base_image():
    """The Dockerfile's base, which scripts/image makes with debootstrap."""
    with open(os.path.join(ROOT, "docker", "Dockerfile")) as f:
        return re.search(r"^FROM (\S+) AS build$", f.read(), re.M).group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remove_container(name):
    run("rm", "-f", name, check=False)

"""Checks docker/ without a Docker engine: the Dockerfile builds with the
scripts a developer uses and copies paths that exist, the runtime image is
the binaries plus every library they link (e2e.image builds and runs it),
compose.yml parses and agrees with the Dockerfile on port, volume and
config, and the classroom config is one that offcloud accepts.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_docker_files.py -v
"""

import json
import os
import re
import shlex
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

ROOT = harness.REPO_ROOT
DOCKER_DIR = os.path.join(ROOT, "docker")
DOCKERFILE = os.path.join(DOCKER_DIR, "Dockerfile")
COMPOSE = os.path.join(DOCKER_DIR, "compose.yml")

def dockerfile_instructions(path=DOCKERFILE):
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments
    dropped."""
    instructions, current = [], ""
    with open(path) as f:
        for line in f:
            stripped = line.strip()
            if not current and (not stripped or stripped.startswith("#")):
                continue
            if stripped.endswith("\\"):
                current += stripped[:-1] + " "
                continue
            current += stripped
            keyword, _, rest = current.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            current = ""
    return instructions


def stages(instructions):
    """Lists of instructions, one per FROM."""
    out = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            out.append([])
        out[-1].append((keyword, rest))
    return out


def exec_form(rest):
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


# -- a YAML subset, for machines without PyYAML -----------------------------

def _scalar(text):
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        return json.loads(text)
    if text[0] in "\"'":
        return text[1:-1]
    return text


def parse_simple_yaml(text):
    """Block maps and lists, flow lists in JSON syntax, quoted or plain
    scalars: what compose.yml uses. Raises ValueError on anything else."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ValueError("tab indentation: %r" % raw)
        lines.append((len(raw) - len(raw.lstrip()), raw.strip()))

    def block(i, indent):
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(_scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent:
            key, sep, value = lines[i][1].partition(":")
            if not sep or key.startswith("- "):
                raise ValueError("not a mapping line: %r" % lines[i][1])
            i += 1
            if value.strip():
                mapping[key] = _scalar(value)
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            elif i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                mapping[key], i = block(i, indent)  # a list at the key's indent
            else:
                mapping[key] = None
        return mapping, i

    value, end = block(0, lines[0][0])
    if end != len(lines):
        raise ValueError("unparsed line: %r" % (lines[end][1],))
    return value


def load_compose():
    with open(COMPOSE) as f:
        text = f.read()
    simple = parse_simple_yaml(text)
    try:
        import yaml
    except ImportError:
        return simple
    full = yaml.safe_load(text)
    # Same document either way, so the fallback is checked where PyYAML exists.
    assert full == simple, "simple YAML parser disagrees:\n%r\n%r" % (full, simple)
    return full


class DockerfileTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instructions = dockerfile_instructions()
        cls.build, cls.runtime = stages(cls.instructions)

    def test_built_on_bookworm_slim_run_from_scratch(self):
        froms = [rest for keyword, rest in self.instructions if keyword == "FROM"]
        self.assertEqual(froms, ["debian:bookworm-slim AS build", "scratch"])

    def test_builds_with_the_developer_scripts(self):
        runs = " && ".join(rest for keyword, rest in self.build if keyword == "RUN")
        self.assertIn("scripts/setup", runs)
        self.assertIn("scripts/build", runs)
        for script in ("scripts/setup", "scripts/build"):
            self.assertTrue(os.access(os.path.join(ROOT, script), os.X_OK), script)
        # The README's scripts/run goes through the same two.
        with open(os.path.join(ROOT, "scripts", "run")) as f:
            run_script = f.read()
        self.assertIn("scripts/setup", run_script)
        self.assertIn("scripts/build", run_script)
        # A configuration made before scripts/build must be the one it reuses.
        with open(os.path.join(ROOT, "scripts", "build")) as f:
            build_script = f.read()
        self.assertIn("\ndir=build\n", build_script)
        self.assertIn('if [ ! -f "$dir/build.ninja" ]', build_script)
        self.assertRegex(runs, r"cmake -S \. -B build -G Ninja")

    def test_copied_sources_exist(self):
        for keyword, rest in self.build:
            if keyword == "COPY":
                *sources, _ = shlex.split(rest)
                for source in sources:
                    self.assertTrue(os.path.exists(os.path.join(ROOT, source)), source)

    def rootfs_run(self):
        """The build stage's RUN that lays out the runtime's root, /rootfs."""
        runs = [rest for keyword, rest in self.build if keyword == "RUN" and "/rootfs" in rest]
        self.assertEqual(len(runs), 1, runs)
        return runs[0]

    def test_runtime_copies_binaries_the_build_makes(self):
        targets = set()
        for directory, _, files in os.walk(ROOT):
            if "CMakeLists.txt" in files and "/build" not in directory:
                with open(os.path.join(directory, "CMakeLists.txt")) as f:
                    targets |= set(re.findall(r"add_executable\(([\w-]+)", f.read()))
        build_run = next(rest for keyword, rest in self.build
                         if keyword == "RUN" and "scripts/build" in rest)
        built = build_run.split("scripts/build", 1)[1].split("&&")[0].split()
        copied = set(re.findall(r"build/bin/([\w-]+)", self.rootfs_run()))
        for name in copied:
            self.assertIn(name, targets)
            self.assertIn(name, built, "%s is copied but not built" % name)
        self.assertLessEqual({"offcloud", "offcloud-publish", "offcloud-loadgen"}, copied)
        # The runtime is that root and /data, nothing else.
        copies = [shlex.split(rest) for keyword, rest in self.runtime if keyword == "COPY"]
        self.assertEqual([c[-2:] for c in copies], [["/rootfs", "/"], ["/volume", "/"]])
        self.assertTrue(all(c[0] == "--from=build" for c in copies))

    def test_runtime_has_every_linked_library(self):
        run = " ".join(self.rootfs_run().split())
        # What ldd lists for each binary copied, loader included, at its path.
        self.assertRegex(run, r'for binary in /rootfs/usr/local/bin/\*; do ldd "\$binary"; done '
                                  r"\| grep -o '/\[\^ \]\*'")
        self.assertIn("cp -L --parents", run)
        # CA certificates where OpenSSL (OPENSSLDIR /usr/lib/ssl) looks.
        self.assertIn("/rootfs/etc/ssl/certs/", run)
        self.assertIn("/rootfs/usr/lib/ssl/cert.pem", run)

    def test_runs_offcloud_as_a_non_root_user_on_all_interfaces(self):
        runtime = dict(self.runtime[::-1])  # first occurrence wins
        user = runtime["USER"]
        self.assertNotIn(user, ("root", "0"))
        passwd = re.search(r"echo '(%s:x:(\d+):[^']*)' >/rootfs/etc/passwd" % user,
                           self.rootfs_run())
        self.assertTrue(passwd, "no passwd entry for %s" % user)
        self.assertNotEqual(passwd.group(2), "0")
        self.assertIn("--chown=%s:%s" % (passwd.group(2), passwd.group(2)),
                      [rest for keyword, rest in self.runtime if keyword == "COPY"][1])
        entrypoint = exec_form(runtime["ENTRYPOINT"])
        self.assertEqual(entrypoint[0], "offcloud")
        self.assertEqual(entrypoint[entrypoint.index("--host") + 1], "0.0.0.0")
        self.assertEqual(runtime["EXPOSE"], "4566")
        self.assertEqual(entrypoint[entrypoint.index("--port") + 1], "4566")
        self.assertEqual(exec_form(runtime["VOLUME"]), ["/data"])
        env = dict(pair.split("=", 1) for pair in shlex.split(runtime["ENV"]))
        self.assertEqual(env, {"PATH": "/usr/local/bin", "OFFCLOUD_DATA_DIR": "/data"})

    def test_local_builds_stay_out_of_the_context(self):
        with open(os.path.join(DOCKER_DIR, "Dockerfile.dockerignore")) as f:
            patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        self.assertLessEqual({".git", "/build*", "/data"}, patterns)


class ComposeTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compose = load_compose()
        cls.service = cls.compose["services"]["offcloud"]
        runtime = dict(stages(dockerfile_instructions())[1][::-1])
        cls.exposed = runtime["EXPOSE"]
        cls.volume = exec_form(runtime["VOLUME"])[0]

    def test_builds_this_dockerfile_from_the_repository_root(self):
        build = self.service["build"]
        context = os.path.normpath(os.path.join(DOCKER_DIR, build["context"]))
        self.assertEqual(context, os.path.normpath(ROOT))
        self.assertTrue(os.path.samefile(os.path.join(context, build["dockerfile"]), DOCKERFILE))

    def test_publishes_the_exposed_port(self):
        self.assertIn("%s:%s" % (self.exposed, self.exposed), self.service["ports"])

    def test_data_lives_in_a_named_volume(self):
        mounts = [v.split(":") for v in self.service["volumes"]]
        named = [source for source, target, *_ in mounts if target == self.volume]
        self.assertEqual(len(named), 1, mounts)
        self.assertIn(named[0], self.compose["volumes"])

    def test_config_file_is_mounted_and_passed(self):
        command = self.service["command"]
        config_target = command[command.index("--config") + 1]
        mounts = {target: source for source, target, *_ in
                  (v.split(":") for v in self.service["volumes"])}
        self.assertIn(config_target, mounts)
        source = os.path.join(DOCKER_DIR, mounts[config_target])
        self.assertTrue(os.path.isfile(source), source)

    def test_simple_parser_refuses_what_it_does_not_know(self):
        with self.assertRaises(ValueError):
            parse_simple_yaml("a: 1\n  b: 2\n")


class ClassroomConfigTests(unittest.TestCase):
    """docker/classroom.json is an example of what `offcloud classroom`
    writes: one account per student, each with its own root key."""

    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(DOCKER_DIR, "classroom.json")
        with open(cls.path) as f:
            cls.config = json.load(f)

    def test_has_the_shape_offcloud_classroom_writes(self):
        self.assertEqual(list(self.config), ["accounts"])
        accounts = self.config["accounts"]
        self.assertGreaterEqual(len(accounts), 2)
        for number, account in enumerate(accounts, 1):
            self.assertEqual(set(account), {"id", "name", "root_access_key_id",
                                            "root_secret_access_key"})
            self.assertRegex(account["id"], r"^[1-9][0-9]{11}$")
            self.assertEqual(account["name"], "student%02d" % number)
            self.assertRegex(account["root_access_key_id"], r"^AKIA[A-Z2-7]{16}$")
            self.assertRegex(account["root_secret_access_key"], r"^[A-Za-z0-9+/]{40}$")
        self.assertEqual(len({a["id"] for a in accounts}), len(accounts))
        self.assertEqual(len({a["root_access_key_id"] for a in accounts}), len(accounts))

    def test_offcloud_accepts_the_config_and_each_students_key(self):
        accounts = self.config["accounts"]
        with harness.OffcloudServer(args=["--config", self.path]) as server:
            for account in accounts:
                key_id, secret = account["root_access_key_id"], account["root_secret_access_key"]
                iot = server.boto3_client("iot-data", access_key=key_id, secret_key=secret)
                response = iot.publish(topic="classroom/" + account["name"], payload=b"{}")
                self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200)
                # Each key is the root of its own account.
                sts = server.boto3_client("sts", access_key=key_id, secret_key=secret)
                self.assertEqual(sts.get_caller_identity()["Account"], account["id"])
            iot = server.boto3_client("iot-data", access_key=accounts[0]["root_access_key_id"],
                                      secret_key="wrong")
            with self.assertRaises(ClientError) as ctx:
                iot.publish(topic="classroom/x", payload=b"{}")
            self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidSignatureException")
            server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""scripts/check-layers: the tree follows its table, and a crossing include,
a crossing link or a folder missing from the table each fail the check."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(ROOT, "scripts", "check-layers")


def run_check(root):
    result = subprocess.run([sys.executable, CHECK, "--root", root], capture_output=True,
                            text=True, timeout=60)
    return result.returncode, result.stdout


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tree = tempfile.mkdtemp(prefix="layers-")
        for folder in ("emulator", "rules", "storage", "client", "tests"):
            shutil.copytree(os.path.join(ROOT, folder), os.path.join(self.tree, folder),
                            ignore=shutil.ignore_patterns("node_modules", "corpus", "*.py"))

    def tearDown(self):
        shutil.rmtree(self.tree)

    def append(self, path, line):
        with open(os.path.join(self.tree, path), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def test_the_tree_follows_the_table(self):
        code, out = run_check(ROOT)
        self.assertEqual(code, 0, out)
        code, out = run_check(self.tree)
        self.assertEqual(code, 0, out)

    def test_transport_including_a_service_fails(self):
        self.append("emulator/http/uri.h", '#include "emulator/s3/s3_service.h"')
        code, out = run_check(self.tree)
        self.assertEqual(code, 1)
        self.assertIn("emulator/http/uri.h:", out)
        self.assertIn("emulator/http may not include emulator/s3/s3_service.h", out)

    def test_a_service_including_another_service_fails(self):
        self.append("emulator/s3/s3_common.h", '#include "emulator/iot/iot_handlers.h"')
        code, out = run_check(self.tree)
        self.assertEqual(code, 1)
        self.assertIn("emulator/s3 may not include emulator/iot/iot_handlers.h", out)

    def test_storage_including_the_rules_fails(self):
        self.append("storage/database.cpp", '#include "rules/message_bus.h"')
        code, out = run_check(self.tree)
        self.assertEqual(code, 1)
        self.assertIn("storage may not include rules/message_bus.h", out)

    def test_a_library_linking_upwards_fails(self):
        self.append("emulator/auth/CMakeLists.txt",
                    "target_link_libraries(offcloud_auth PRIVATE offcloud_iam)")
        code, out = run_check(self.tree)
        self.assertEqual(code, 1)
        self.assertIn("offcloud_auth may not link offcloud_iam", out)

    def test_a_folder_missing_from_the_table_fails(self):
        os.makedirs(os.path.join(self.tree, "emulator", "shadow"))
        self.append("emulator/shadow/shadow.h", '#include "emulator/util/log.h"')
        code, out = run_check(self.tree)
        self.assertEqual(code, 1)
        self.assertIn("emulator/shadow/shadow.h: its folder is not in the table", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""End-to-end tests of the AWS IoT registry against the real offcloud binary:
things, certificates signed by offcloud's CA, IoT policies and their
versions, and what is attached to what, driven with the aws CLI and boto3
("iot") as a device's onboarding script runs them; AWS's error codes and
statuses for bad input; everything kept across a restart; each account and
region apart.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_iot_registry.py -v
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request
import uuid

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ACCOUNT = "000000000000"
ALICE = ("111122223333", "test")  # 12-digit keys are the roots of their accounts
BOB = ("444455556666", "test")
VIRGINIA = "us-east-1"

DEVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:*:*:topic/handson/*"},
    ],
}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def policy_text(action="iot:Publish"):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


def openssl(*args, stdin=None):
    done = subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        raise AssertionError("openssl %s: %s%s" % (" ".join(args), done.stdout, done.stderr))
    return done.stdout


class RegistryCase(unittest.TestCase):
    data_dir = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(data_dir=cls.data_dir)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="offcloud-registry-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def iot(self, key=(harness.ACCESS_KEY, harness.SECRET_KEY), region=harness.REGION):
        return self.server.boto3_client("iot", access_key=key[0], secret_key=key[1],
                                        region=region)

    def cli(self, *args, ok=True):
        result = self.server.aws(*args)
        detail = "aws %s: rc=%d stdout=%r stderr=%r" % (
            " ".join(args), result.returncode, result.stdout, result.stderr)
        if ok:
            self.assertEqual(result.returncode, 0, detail)
            return json.loads(result.stdout) if result.stdout.strip() else {}
        self.assertNotEqual(result.returncode, 0, detail)
        return result.stderr

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def ca_pem_path(self):
        """offcloud's CA, as a device downloads it."""
        with urllib.request.urlopen(self.server.endpoint + "/_offcloud/ca.pem", timeout=10) as r:
            self.assertEqual(r.status, 200)
            return self.write("ca.pem", r.read().decode())

    def assertVerifies(self, certificate_pem):
        path = self.write("device-%s.pem" % uuid.uuid4().hex[:6], certificate_pem)
        out = openssl("verify", "-CAfile", self.ca_pem_path(), path)
        self.assertIn(": OK", out)

    def assertError(self, code, http_status, call, *args, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        error = caught.exception.response.get("Error", {})
        meta = caught.exception.response.get("ResponseMetadata", {})
        detail = "got code=%r status=%r message=%r" % (
            error.get("Code"), meta.get("HTTPStatusCode"), error.get("Message"))
        self.assertEqual(error.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), http_status, detail)
        return caught.exception.response

    def raw(self, method, path, body=b"", headers=None, query=""):
        """A signed request botocore would not send (bad JSON, a wrong method)."""
        target = path + ("?" + query if query else "")
        signed = self.server.signed_headers(method, target, body=body, service="iot",
                                            headers=headers)
        connection = self.server.http()
        connection.request(method, target, body=body, headers=signed)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, response.getheader("x-amzn-ErrorType"), payload


class DeviceOnboardingTests(RegistryCase):
    """What a device's setup script does, with the aws CLI."""

    def test_onboarding_with_the_cli(self):
        thing = unique("handson-device")
        created = self.cli("iot", "create-thing", "--thing-name", thing,
                           "--attribute-payload", '{"attributes": {"room": "lab1"}}')
        self.assertEqual(created["thingArn"],
                         "arn:aws:iot:%s:%s:thing/%s" % (harness.REGION, ACCOUNT, thing))
        self.assertRegex(created["thingId"], "^[0-9a-f-]{36}$")

        keys = self.cli("iot", "create-keys-and-certificate", "--set-as-active")
        cert_id, cert_arn = keys["certificateId"], keys["certificateArn"]
        self.assertRegex(cert_id, "^[0-9a-f]{64}$")
        self.assertEqual(cert_arn, "arn:aws:iot:%s:%s:cert/%s" % (harness.REGION, ACCOUNT,
                                                                  cert_id))
        self.assertIn("BEGIN CERTIFICATE", keys["certificatePem"])
        self.assertIn("PRIVATE KEY", keys["keyPair"]["PrivateKey"])
        self.assertIn("PUBLIC KEY", keys["keyPair"]["PublicKey"])
        # The certificate is offcloud's CA's, its id the SHA-256 of its DER,
        # and its key the private key handed out.
        self.assertVerifies(keys["certificatePem"])
        cert_path = self.write("cert.pem", keys["certificatePem"])
        der = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        self.assertEqual(hashlib.sha256(der).hexdigest(), cert_id)
        key_path = self.write("private.key", keys["keyPair"]["PrivateKey"])
        self.assertEqual(openssl("x509", "-in", cert_path, "-noout", "-pubkey"),
                         openssl("pkey", "-in", key_path, "-pubout"))

        described = self.cli("iot", "describe-certificate", "--certificate-id",
                             cert_id)["certificateDescription"]
        self.assertEqual(described["status"], "ACTIVE")
        self.assertEqual(described["certificateArn"], cert_arn)
        self.assertEqual(described["ownedBy"], ACCOUNT)
        self.assertEqual(described["certificateMode"], "DEFAULT")
        self.assertEqual(described["certificatePem"].strip(), keys["certificatePem"].strip())
        self.assertRegex(described["caCertificateId"], "^[0-9a-f]{64}$")
        self.assertIn("notBefore", described["validity"])
        self.assertIn("notAfter", described["validity"])

        policy = unique("handson-policy")
        policy_file = self.write("policy.json", json.dumps(DEVICE_POLICY))
        made = self.cli("iot", "create-policy", "--policy-name", policy,
                        "--policy-document", "file://" + policy_file)
        self.assertEqual(made["policyVersionId"], "1")
        self.assertEqual(json.loads(made["policyDocument"]), DEVICE_POLICY)
        self.cli("iot", "attach-policy", "--policy-name", policy, "--target", cert_arn)
        attached = self.cli("iot", "list-attached-policies", "--target", cert_arn)["policies"]
        self.assertEqual(attached, [{"policyName": policy, "policyArn": made["policyArn"]}])
        self.cli("iot", "attach-thing-principal", "--thing-name", thing, "--principal", cert_arn)
        self.assertEqual(self.cli("iot", "list-thing-principals", "--thing-name",
                                  thing)["principals"], [cert_arn])
        self.assertEqual(self.cli("iot", "list-principal-things", "--principal",
                                  cert_arn)["things"], [thing])

        endpoint = self.cli("iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
        self.assertEqual(endpoint["endpointAddress"], "127.0.0.1:%d" % self.server.port)

        # Tearing down, in the order AWS insists on.
        err = self.cli("iot", "delete-certificate", "--certificate-id", cert_id, ok=False)
        self.assertIn("CertificateStateException", err)
        self.cli("iot", "update-certificate", "--certificate-id", cert_id,
                 "--new-status", "INACTIVE")
        self.assertEqual(self.cli("iot", "describe-certificate", "--certificate-id", cert_id)
                         ["certificateDescription"]["status"], "INACTIVE")
        err = self.cli("iot", "delete-certificate", "--certificate-id", cert_id, ok=False)
        self.assertIn("DeleteConflictException", err)
        err = self.cli("iot", "delete-thing", "--thing-name", thing, ok=False)
        self.assertIn("InvalidRequestException", err)
        self.cli("iot", "detach-thing-principal", "--thing-name", thing, "--principal", cert_arn)
        err = self.cli("iot", "delete-policy", "--policy-name", policy, ok=False)
        self.assertIn("DeleteConflictException", err)
        self.cli("iot", "detach-policy", "--policy-name", policy, "--target", cert_arn)
        self.cli("iot", "delete-certificate", "--certificate-id", cert_id)
        self.cli("iot", "delete-policy", "--policy-name", policy)
        self.cli("iot", "delete-thing", "--thing-name", thing)
        err = self.cli("iot", "describe-certificate", "--certificate-id", cert_id, ok=False)
        self.assertIn("ResourceNotFoundException", err)
        err = self.cli("iot", "describe-thing", "--thing-name", thing, ok=False)
        self.assertIn("ResourceNotFoundException", err)

    def test_certificate_from_a_csr_keeps_the_devices_key_and_name(self):
        key = os.path.join(self.tmp, "device.key")
        csr = os.path.join(self.tmp, "device.csr")
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-subj", "/CN=sensor-42", "-out", csr)
        made = self.cli("iot", "create-certificate-from-csr",
                        "--certificate-signing-request", "file://" + csr)
        self.assertVerifies(made["certificatePem"])
        cert = self.write("from-csr.pem", made["certificatePem"])
        self.assertIn("sensor-42", openssl("x509", "-in", cert, "-noout", "-subject"))
        self.assertEqual(openssl("x509", "-in", cert, "-noout", "-pubkey"),
                         openssl("pkey", "-in", key, "-pubout"))
        self.assertEqual(self.iot().describe_certificate(certificateId=made["certificateId"])
                         ["certificateDescription"]["status"], "INACTIVE")
        err = self.cli("iot", "create-certificate-from-csr", "--certificate-signing-request",
                       "not a csr", ok=False)
        self.assertIn("InvalidRequestException", err)


class ThingTests(RegistryCase):
    def test_create_is_idempotent_and_conflicts_with_other_attributes(self):
        iot = self.iot()
        name = unique("lamp")
        first = iot.create_thing(thingName=name, attributePayload={"attributes": {"a": "1"}})
        again = iot.create_thing(thingName=name, attributePayload={"attributes": {"a": "1"}})
        self.assertEqual(first["thingId"], again["thingId"])
        response = self.assertError("ResourceAlreadyExistsException", 409, iot.create_thing,
                                    thingName=name, attributePayload={"attributes": {"a": "2"}})
        self.assertEqual(response["Error"].get("Message"),
                         "Thing %s already exists in account with different attributes" % name)

        thing = iot.describe_thing(thingName=name)
        self.assertEqual(thing["thingName"], name)
        self.assertEqual(thing["thingId"], first["thingId"])
        self.assertEqual(thing["thingArn"], first["thingArn"])
        self.assertEqual(thing["defaultClientId"], name)
        self.assertEqual(thing["attributes"], {"a": "1"})
        self.assertEqual(thing["version"], 1)

    def test_update_merges_replaces_and_checks_the_version(self):
        iot = self.iot()
        name = unique("fan")
        iot.create_thing(thingName=name, attributePayload={"attributes": {"a": "1", "b": "2"}})
        iot.update_thing(thingName=name, expectedVersion=1, attributePayload={
            "attributes": {"b": "", "c": "3"}, "merge": True})
        thing = iot.describe_thing(thingName=name)
        self.assertEqual(thing["attributes"], {"a": "1", "c": "3"})
        self.assertEqual(thing["version"], 2)
        self.assertError("VersionConflictException", 409, iot.update_thing, thingName=name,
                         expectedVersion=1, attributePayload={"attributes": {"d": "4"}})
        iot.update_thing(thingName=name, attributePayload={"attributes": {"z": "26"}})
        self.assertEqual(iot.describe_thing(thingName=name)["attributes"], {"z": "26"})
        self.assertError("InvalidRequestException", 400, iot.update_thing, thingName=name,
                         attributePayload={"attributes": {"p": "1", "q": "2", "r": "3"},
                                           "merge": True})
        self.assertError("ResourceNotFoundException", 404, iot.update_thing,
                         thingName=unique("missing"), attributePayload={"attributes": {}})
        self.assertError("VersionConflictException", 409, iot.delete_thing, thingName=name,
                         expectedVersion=1)
        iot.delete_thing(thingName=name, expectedVersion=3)
        # Deleting what is not there succeeds, as AWS documents.
        iot.delete_thing(thingName=name)

    def test_list_pages_and_filters_by_attribute(self):
        iot = self.iot(region=VIRGINIA)
        prefix = unique("shelf")
        for i in range(5):
            iot.create_thing(thingName="%s-%d" % (prefix, i),
                             attributePayload={"attributes": {"shelf": prefix, "slot": str(i)}})
        names, token, pages = [], None, 0
        while True:
            kwargs = {"maxResults": 2, "attributeName": "shelf", "attributeValue": prefix}
            if token:
                kwargs["nextToken"] = token
            page = iot.list_things(**kwargs)
            pages += 1
            names += [t["thingName"] for t in page["things"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(names, ["%s-%d" % (prefix, i) for i in range(5)])
        self.assertEqual(pages, 3)
        found = iot.list_things(attributeName="slot", attributeValue="3")["things"]
        self.assertIn("%s-3" % prefix, [t["thingName"] for t in found])
        self.assertEqual(found[0]["attributes"]["slot"], "3")
        prefixed = iot.list_things(attributeName="shelf", attributeValue=prefix[:8],
                                   usePrefixAttributeValue=True)["things"]
        self.assertGreaterEqual(len(prefixed), 5)
        paginated = [t["thingName"] for p in iot.get_paginator("list_things").paginate(
            attributeName="shelf", attributeValue=prefix, PaginationConfig={"PageSize": 2})
            for t in p["things"]]
        self.assertEqual(len(paginated), 5)

    def test_bad_input_is_refused_as_aws_refuses_it(self):
        iot = self.iot()
        self.assertError("InvalidRequestException", 400, iot.create_thing, thingName="bad name")
        self.assertError("InvalidRequestException", 400, iot.create_thing, thingName="x" * 129)
        self.assertError("InvalidRequestException", 400, iot.create_thing,
                         thingName=unique("t"), attributePayload={"attributes": {"a b": "1"}})
        self.assertError("InvalidRequestException", 400, iot.create_thing,
                         thingName=unique("t"),
                         attributePayload={"attributes": {"a": "1", "b": "2", "c": "3",
                                                           "d": "4"}})
        self.assertError("ResourceNotFoundException", 404, iot.create_thing,
                         thingName=unique("t"), thingTypeName="NoSuchType")
        self.assertError("ResourceNotFoundException", 404, iot.describe_thing,
                         thingName=unique("missing"))
        self.assertError("InvalidRequestException", 400, iot.list_things, nextToken="!!!")
        self.assertError("InvalidRequestException", 400, iot.list_things, maxResults=251)


class CertificateTests(RegistryCase):
    def self_signed(self, name="outsider"):
        key = os.path.join(self.tmp, name + ".key")
        cert = os.path.join(self.tmp, name + ".pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-days", "30",
                "-subj", "/CN=" + name, "-out", cert)
        with open(cert) as f:
            return f.read()

    def test_register_with_and_without_a_ca(self):
        alice, bob = self.iot(ALICE), self.iot(BOB)
        issued = alice.create_keys_and_certificate(setAsActive=False)
        # One endpoint serves every account, so a certificate can be in one
        # account and region only (else another could take the device over).
        self.assertError("ResourceAlreadyExistsException", 409, bob.register_certificate,
                         certificatePem=issued["certificatePem"], status="ACTIVE")
        alice.delete_certificate(certificateId=issued["certificateId"])
        # offcloud's CA is registered: its certificates register elsewhere.
        registered = bob.register_certificate(certificatePem=issued["certificatePem"],
                                              status="ACTIVE")
        self.assertEqual(registered["certificateId"], issued["certificateId"])
        self.assertIn(":%s:cert/" % BOB[0], registered["certificateArn"])
        described = bob.describe_certificate(
            certificateId=issued["certificateId"])["certificateDescription"]
        self.assertEqual(described["status"], "ACTIVE")
        self.assertEqual(described["certificateMode"], "DEFAULT")
        self.assertError("ResourceNotFoundException", 404, alice.describe_certificate,
                         certificateId=issued["certificateId"])
        self.assertError("ResourceAlreadyExistsException", 409, bob.register_certificate,
                         certificatePem=issued["certificatePem"])
        with open(self.ca_pem_path()) as f:
            ca_pem = f.read()
        self.assertError("ResourceAlreadyExistsException", 409, bob.register_certificate,
                         certificatePem=issued["certificatePem"], caCertificatePem=ca_pem)

        # Another CA's is not, unless registered without a CA.
        outsider = self.self_signed()
        self.assertError("CertificateValidationException", 400, alice.register_certificate,
                         certificatePem=outsider)
        self.assertError("CertificateValidationException", 400, alice.register_certificate,
                         certificatePem=issued["certificatePem"], caCertificatePem=outsider)
        sni = alice.register_certificate_without_ca(certificatePem=outsider, status="ACTIVE")
        described = alice.describe_certificate(
            certificateId=sni["certificateId"])["certificateDescription"]
        self.assertEqual(described["certificateMode"], "SNI_ONLY")
        self.assertNotIn("caCertificateId", described)
        self.assertEqual(described["status"], "ACTIVE")
        self.assertError("ResourceAlreadyExistsException", 409,
                         alice.register_certificate_without_ca, certificatePem=outsider)
        self.assertError("CertificateValidationException", 400, alice.register_certificate,
                         certificatePem="-----BEGIN CERTIFICATE-----\nAAAA\n"
                                        "-----END CERTIFICATE-----\n")
        self.assertError("InvalidRequestException", 400, alice.register_certificate_without_ca,
                         certificatePem=outsider, status="PENDING_TRANSFER")

    def test_status_changes_and_revocation_is_final(self):
        iot = self.iot()
        cert_id = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
        iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")
        iot.update_certificate(certificateId=cert_id, newStatus="REVOKED")
        iot.update_certificate(certificateId=cert_id, newStatus="REVOKED")
        self.assertError("CertificateStateException", 406, iot.update_certificate,
                         certificateId=cert_id, newStatus="ACTIVE")
        described = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]
        self.assertEqual(described["status"], "REVOKED")
        self.assertGreaterEqual(described["lastModifiedDate"], described["creationDate"])
        self.assertError("InvalidRequestException", 400, iot.update_certificate,
                         certificateId=cert_id, newStatus="PENDING_TRANSFER")
        self.assertError("InvalidRequestException", 400, iot.update_certificate,
                         certificateId="g" * 64, newStatus="ACTIVE")
        self.assertError("ResourceNotFoundException", 404, iot.update_certificate,
                         certificateId="0" * 64, newStatus="ACTIVE")
        self.assertError("ResourceNotFoundException", 404, iot.describe_certificate,
                         certificateId="0" * 64)
        self.assertError("ResourceNotFoundException", 404, iot.delete_certificate,
                         certificateId="0" * 64)
        iot.delete_certificate(certificateId=cert_id)

    def test_force_delete_detaches_policies(self):
        iot = self.iot()
        cert = iot.create_keys_and_certificate(setAsActive=False)
        policy = unique("force")
        iot.create_policy(policyName=policy, policyDocument=policy_text())
        iot.attach_policy(policyName=policy, target=cert["certificateArn"])
        self.assertError("DeleteConflictException", 409, iot.delete_certificate,
                         certificateId=cert["certificateId"])
        iot.delete_certificate(certificateId=cert["certificateId"], forceDelete=True)
        self.assertEqual(iot.list_targets_for_policy(policyName=policy)["targets"], [])
        iot.delete_policy(policyName=policy)

    def test_list_pages_newest_first_or_oldest_first(self):
        iot = self.iot(ALICE, region=VIRGINIA)
        made = [iot.create_keys_and_certificate()["certificateId"] for _ in range(3)]
        listed, marker = [], None
        while True:
            kwargs = {"pageSize": 2}
            if marker:
                kwargs["marker"] = marker
            page = iot.list_certificates(**kwargs)
            listed += page["certificates"]
            marker = page.get("nextMarker")
            if not marker:
                break
        ids = [c["certificateId"] for c in listed]
        for cert_id in made:
            self.assertIn(cert_id, ids)
        self.assertEqual(len(ids), len(set(ids)))
        dates = [c["creationDate"] for c in listed]
        self.assertEqual(dates, sorted(dates, reverse=True))
        ascending = iot.list_certificates(ascendingOrder=True)["certificates"]
        self.assertEqual([c["creationDate"] for c in ascending],
                         sorted(c["creationDate"] for c in ascending))
        self.assertEqual(set(c["certificateId"] for c in ascending), set(ids))
        self.assertEqual(listed[0]["certificateMode"], "DEFAULT")
        self.assertEqual(listed[0]["status"], "INACTIVE")
        self.assertError("InvalidRequestException", 400, iot.list_certificates, marker="AAAA")


class PolicyTests(RegistryCase):
    def test_versions_up_to_five_and_the_default(self):
        iot = self.iot()
        name = unique("versions")
        made = iot.create_policy(policyName=name, policyDocument=policy_text("iot:Publish"))
        self.assertEqual(made["policyArn"],
                         "arn:aws:iot:%s:%s:policy/%s" % (harness.REGION, ACCOUNT, name))
        self.assertError("ResourceAlreadyExistsException", 409, iot.create_policy,
                         policyName=name, policyDocument=policy_text())
        got = iot.get_policy(policyName=name)
        self.assertEqual(got["defaultVersionId"], "1")
        self.assertEqual(got["policyDocument"], policy_text("iot:Publish"))
        self.assertIn("generationId", got)

        v2 = iot.create_policy_version(policyName=name, policyDocument=policy_text("iot:Connect"),
                                       setAsDefault=True)
        self.assertEqual((v2["policyVersionId"], v2["isDefaultVersion"]), ("2", True))
        self.assertEqual(iot.get_policy(policyName=name)["policyDocument"],
                         policy_text("iot:Connect"))
        self.assertNotEqual(iot.get_policy(policyName=name)["generationId"], got["generationId"])
        for action in ("iot:Subscribe", "iot:Receive", "iot:RetainPublish"):
            made = iot.create_policy_version(policyName=name, policyDocument=policy_text(action))
            self.assertFalse(made["isDefaultVersion"])
        self.assertError("VersionsLimitExceededException", 409, iot.create_policy_version,
                         policyName=name, policyDocument=policy_text())
        versions = iot.list_policy_versions(policyName=name)["policyVersions"]
        self.assertEqual([v["versionId"] for v in versions], ["5", "4", "3", "2", "1"])
        self.assertEqual([v["isDefaultVersion"] for v in versions],
                         [False, False, False, True, False])
        v1 = iot.get_policy_version(policyName=name, policyVersionId="1")
        self.assertEqual(v1["policyDocument"], policy_text("iot:Publish"))
        self.assertFalse(v1["isDefaultVersion"])

        self.assertError("DeleteConflictException", 409, iot.delete_policy_version,
                         policyName=name, policyVersionId="2")
        self.assertError("DeleteConflictException", 409, iot.delete_policy, policyName=name)
        self.assertError("ResourceNotFoundException", 404, iot.set_default_policy_version,
                         policyName=name, policyVersionId="9")
        iot.set_default_policy_version(policyName=name, policyVersionId="1")
        for version in ("2", "3", "4", "5"):
            iot.delete_policy_version(policyName=name, policyVersionId=version)
        self.assertError("ResourceNotFoundException", 404, iot.get_policy_version,
                         policyName=name, policyVersionId="2")
        iot.delete_policy(policyName=name)
        self.assertError("ResourceNotFoundException", 404, iot.get_policy, policyName=name)
        self.assertError("ResourceNotFoundException", 404, iot.delete_policy, policyName=name)

    def test_malformed_documents_and_names_are_refused(self):
        iot = self.iot()
        for document in ("{not json", "{}", json.dumps({"Statement": [{"Effect": "Maybe",
                                                                       "Action": "iot:*",
                                                                       "Resource": "*"}]})):
            self.assertError("MalformedPolicyException", 400, iot.create_policy,
                             policyName=unique("bad"), policyDocument=document)
        self.assertError("InvalidRequestException", 400, iot.create_policy,
                         policyName="no/slash", policyDocument=policy_text())
        name = unique("good")
        iot.create_policy(policyName=name, policyDocument=policy_text())
        self.assertError("MalformedPolicyException", 400, iot.create_policy_version,
                         policyName=name, policyDocument="[]")
        self.assertError("ResourceNotFoundException", 404, iot.create_policy_version,
                         policyName=unique("missing"), policyDocument=policy_text())
        iot.delete_policy(policyName=name)

    def test_attachments_new_and_legacy(self):
        iot = self.iot()
        cert = iot.create_keys_and_certificate(setAsActive=True)
        arn = cert["certificateArn"]
        names = sorted(unique("p%d" % i) for i in range(3))
        for name in names:
            iot.create_policy(policyName=name, policyDocument=policy_text())
        iot.attach_policy(policyName=names[0], target=arn)
        iot.attach_policy(policyName=names[0], target=arn)  # again: nothing changes
        iot.attach_principal_policy(policyName=names[1], principal=arn)
        attached = [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]]
        self.assertEqual(attached, names[:2])
        legacy = [p["policyName"] for p in iot.list_principal_policies(principal=arn)["policies"]]
        self.assertEqual(legacy, names[:2])
        page = iot.list_attached_policies(target=arn, pageSize=1)
        self.assertEqual(len(page["policies"]), 1)
        rest = iot.list_attached_policies(target=arn, pageSize=1, marker=page["nextMarker"])
        self.assertEqual(rest["policies"][0]["policyName"], names[1])
        self.assertEqual(iot.list_targets_for_policy(policyName=names[0])["targets"], [arn])
        self.assertEqual(iot.list_policy_principals(policyName=names[1])["principals"], [arn])

        self.assertError("ResourceNotFoundException", 404, iot.attach_policy,
                         policyName=unique("missing"), target=arn)
        other = "arn:aws:iot:%s:%s:cert/%s" % (harness.REGION, ACCOUNT, "f" * 64)
        self.assertError("ResourceNotFoundException", 404, iot.attach_policy,
                         policyName=names[2], target=other)
        self.assertError("ResourceNotFoundException", 404, iot.list_attached_policies,
                         target=other)
        self.assertError("InvalidRequestException", 400, iot.attach_policy,
                         policyName=names[2], target="not-an-arn")
        self.assertError("ResourceNotFoundException", 404, iot.list_targets_for_policy,
                         policyName=unique("missing"))

        iot.detach_principal_policy(policyName=names[1], principal=arn)
        iot.detach_policy(policyName=names[0], target=arn)
        self.assertEqual(iot.list_attached_policies(target=arn)["policies"], [])

        # Ten policies at most on one certificate: the eleventh is refused
        # with AWS's 410.
        many = [unique("many") for _ in range(11)]
        for name in many:
            iot.create_policy(policyName=name, policyDocument=policy_text())
        for name in many[:10]:
            iot.attach_policy(policyName=name, target=arn)
        self.assertError("LimitExceededException", 410, iot.attach_policy, policyName=many[10],
                         target=arn)

    def test_thing_principals_exclusive(self):
        iot = self.iot()
        arn = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
        lamp, fan = unique("lamp"), unique("fan")
        iot.create_thing(thingName=lamp)
        iot.create_thing(thingName=fan)
        iot.attach_thing_principal(thingName=lamp, principal=arn,
                                   thingPrincipalType="EXCLUSIVE_THING")
        self.assertError("InvalidRequestException", 400, iot.attach_thing_principal,
                         thingName=fan, principal=arn)
        iot.detach_thing_principal(thingName=lamp, principal=arn)
        iot.attach_thing_principal(thingName=lamp, principal=arn)
        iot.attach_thing_principal(thingName=fan, principal=arn)
        self.assertEqual(sorted(iot.list_principal_things(principal=arn)["things"]),
                         sorted([lamp, fan]))
        page = iot.list_principal_things(principal=arn, maxResults=1)
        self.assertEqual(len(page["things"]), 1)
        self.assertIn("nextToken", page)
        self.assertError("ResourceNotFoundException", 404, iot.attach_thing_principal,
                         thingName=unique("missing"), principal=arn)
        self.assertError("ResourceNotFoundException", 404, iot.list_thing_principals,
                         thingName=unique("missing"))
        self.assertError("InvalidRequestException", 400, iot.attach_thing_principal,
                         thingName=lamp, principal="arn:aws:iam::000000000000:user/x")


class RawRequestTests(RegistryCase):
    """What botocore would never send still gets an AWS-style answer."""

    def test_malformed_requests(self):
        status, code, body = self.raw("POST", "/things/" + unique("raw"), body=b"{not json")
        self.assertEqual((status, code), (400, "InvalidRequestException"), body)
        self.assertIn("message", json.loads(body))
        status, code, _ = self.raw("POST", "/things/" + unique("raw"), body=b"[1, 2]")
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("POST", "/things/" + unique("raw"),
                                   body=b'{"attributePayload": "nope"}')
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("POST", "/policies/" + unique("raw"),
                                   body=b'{"policyDocument": 5}')
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("PUT", "/things")
        self.assertEqual((status, code), (405, "MethodNotAllowedException"))
        status, code, _ = self.raw("GET", "/no-such-resource/x")
        self.assertEqual((status, code), (404, "UnknownOperationException"))
        status, code, _ = self.raw("GET", "/things", query="maxResults=abc")
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("POST", "/keys-and-certificate", query="setAsActive=maybe")
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("PUT", "/things/x/principals")
        self.assertEqual((status, code), (400, "InvalidRequestException"))
        status, code, _ = self.raw("DELETE", "/things/x", query="expectedVersion=-1")
        self.assertEqual((status, code), (400, "InvalidRequestException"))


class IsolationTests(RegistryCase):
    """Each account and each region has a registry of its own."""

    def test_accounts_and_regions_do_not_see_each_other(self):
        alice, bob = self.iot(ALICE), self.iot(BOB)
        alice_west = self.iot(ALICE, region=VIRGINIA)
        name = unique("shared-name")
        alice.create_thing(thingName=name, attributePayload={"attributes": {"owner": "alice"}})
        bob.create_thing(thingName=name, attributePayload={"attributes": {"owner": "bob"}})
        self.assertEqual(alice.describe_thing(thingName=name)["attributes"]["owner"], "alice")
        self.assertEqual(bob.describe_thing(thingName=name)["attributes"]["owner"], "bob")
        self.assertError("ResourceNotFoundException", 404, alice_west.describe_thing,
                         thingName=name)
        self.assertIn(":%s:thing/" % BOB[0], bob.describe_thing(thingName=name)["thingArn"])

        cert = alice.create_keys_and_certificate(setAsActive=True)
        self.assertError("ResourceNotFoundException", 404, bob.describe_certificate,
                         certificateId=cert["certificateId"])
        self.assertNotIn(cert["certificateId"],
                         [c["certificateId"] for c in bob.list_certificates()["certificates"]])
        policy = unique("alice-only")
        alice.create_policy(policyName=policy, policyDocument=policy_text())
        self.assertError("ResourceNotFoundException", 404, bob.get_policy, policyName=policy)
        self.assertNotIn(policy, [p["policyName"] for p in bob.list_policies()["policies"]])
        bob.create_policy(policyName=policy, policyDocument=policy_text("iot:Connect"))
        # Alice's certificate is not Bob's to attach, nor Alice's in another region.
        self.assertError("ResourceNotFoundException", 404, bob.attach_policy,
                         policyName=policy, target=cert["certificateArn"])
        self.assertError("ResourceNotFoundException", 404, bob.attach_thing_principal,
                         thingName=name, principal=cert["certificateArn"])
        self.assertError("ResourceNotFoundException", 404, alice_west.update_certificate,
                         certificateId=cert["certificateId"], newStatus="INACTIVE")
        alice.attach_policy(policyName=policy, target=cert["certificateArn"])
        self.assertEqual(bob.list_targets_for_policy(policyName=policy)["targets"], [])
        self.assertEqual(alice.get_policy(policyName=policy)["policyDocument"], policy_text())

    def test_iam_decides_on_the_things_arn(self):
        root_iam = self.server.boto3_client("iam")
        user = unique("installer")
        root_iam.create_user(UserName=user)
        root_iam.put_user_policy(UserName=user, PolicyName="lamps", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing"],
                           "Resource": "arn:aws:iot:*:*:thing/lamp-*"}]}))
        key = root_iam.create_access_key(UserName=user)["AccessKey"]
        iot = self.iot((key["AccessKeyId"], key["SecretAccessKey"]))
        name = unique("lamp")
        iot.create_thing(thingName=name)
        self.assertEqual(iot.describe_thing(thingName=name)["thingName"], name)
        self.assertError("AccessDeniedException", 403, iot.create_thing, thingName=unique("fan"))
        self.assertError("AccessDeniedException", 403, iot.list_things)
        self.assertError("AccessDeniedException", 403, iot.create_keys_and_certificate)


class RestartTests(unittest.TestCase):
    """Everything is where it was after the binary restarts."""

    def test_registry_survives_a_restart(self):
        with harness.OffcloudServer() as server:
            iot = server.boto3_client("iot")
            alice = server.boto3_client("iot", access_key=ALICE[0], secret_key=ALICE[1])
            iot.create_thing(thingName="kept", attributePayload={"attributes": {"k": "v"}})
            cert = iot.create_keys_and_certificate(setAsActive=True)
            iot.create_policy(policyName="kept", policyDocument=policy_text("iot:Publish"))
            iot.create_policy_version(policyName="kept", policyDocument=policy_text("iot:Connect"),
                                      setAsDefault=True)
            iot.attach_policy(policyName="kept", target=cert["certificateArn"])
            iot.attach_thing_principal(thingName="kept", principal=cert["certificateArn"])
            alice.create_thing(thingName="alices")
            with open(os.path.join(server.data_dir, "ca", "ca.pem")) as f:
                ca_before = f.read()
            server.stop()
            server.restart()

            iot = server.boto3_client("iot")
            alice = server.boto3_client("iot", access_key=ALICE[0], secret_key=ALICE[1])
            thing = iot.describe_thing(thingName="kept")
            self.assertEqual(thing["attributes"], {"k": "v"})
            described = iot.describe_certificate(
                certificateId=cert["certificateId"])["certificateDescription"]
            self.assertEqual(described["status"], "ACTIVE")
            self.assertEqual(described["certificatePem"].strip(), cert["certificatePem"].strip())
            policy = iot.get_policy(policyName="kept")
            self.assertEqual(policy["defaultVersionId"], "2")
            self.assertEqual(policy["policyDocument"], policy_text("iot:Connect"))
            self.assertEqual(
                [p["policyName"] for p in iot.list_attached_policies(
                    target=cert["certificateArn"])["policies"]], ["kept"])
            self.assertEqual(iot.list_thing_principals(thingName="kept")["principals"],
                             [cert["certificateArn"]])
            self.assertEqual(alice.describe_thing(thingName="alices")["thingName"], "alices")
            self.assertError(iot.describe_thing, "ResourceNotFoundException", thingName="alices")
            # The same CA signs after the restart: old and new certificates
            # verify against the one CA file devices hold.
            with urllib.request.urlopen(server.endpoint + "/_offcloud/ca.pem", timeout=10) as r:
                ca_after = r.read().decode()
            self.assertEqual(ca_after.strip(), ca_before.strip())
            newer = iot.create_keys_and_certificate()["certificatePem"]
            directory = tempfile.mkdtemp(prefix="offcloud-registry-")
            try:
                ca_path = os.path.join(directory, "ca.pem")
                with open(ca_path, "w") as f:
                    f.write(ca_after)
                for i, pem in enumerate((cert["certificatePem"], newer)):
                    path = os.path.join(directory, "c%d.pem" % i)
                    with open(path, "w") as f:
                        f.write(pem)
                    self.assertIn(": OK", openssl("verify", "-CAfile", ca_path, path))
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            server.stop()

    def assertError(self, call, code, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code)


if __name__ == "__main__":
    unittest.main()

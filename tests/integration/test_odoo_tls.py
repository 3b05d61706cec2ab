"""Odoo over HTTPS (issue 15, point 8): the test double serves TLS with a
certificate signed by a CA made for the test (openssl). A sync works with
ca_file; the system CAs, a self-signed certificate or a certificate for
another host are refused with a message that says so; an https:// URL is
never read over plain HTTP (http:// only when the URL asks for it)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import BIN, ROOT, Postgres, Stack

sys.path.insert(0, os.path.join(ROOT, "tests"))
import odoo_double  # noqa: E402


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certificates(folder):
    """ca.pem, server.pem/key (signed by the CA, for localhost and
    127.0.0.1), other.pem (signed by the CA for another host), self.pem
    (self-signed for localhost)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=vendange test CA", cwd=folder)
    for name, san in (("server", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:odoo.example")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
                name + ".csr", "-subj", "/CN=" + san.split(",")[0][4:], cwd=folder)
        with open(os.path.join(folder, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile",
                name + ".ext", cwd=folder)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out",
            "self.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
            "subjectAltName=DNS:localhost", cwd=folder)


class OdooTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vd-tls-")
        make_certificates(cls.dir)
        cert = lambda name: (os.path.join(cls.dir, name + ".pem"),  # noqa: E731
                             os.path.join(cls.dir, name + ".key"))
        cls.good = odoo_double.OdooDouble("19").start(tls=cert("server"))
        cls.selfsigned = odoo_double.OdooDouble("19").start(tls=cert("self"))
        cls.otherhost = odoo_double.OdooDouble("19").start(tls=cert("other"))
        cls.plain = odoo_double.OdooDouble("19").start()
        cls.ca = os.path.join(cls.dir, "ca.pem")
        cls.pg = Postgres()
        cls.stack = Stack(cls.pg, "odoo-tls", extractors=0, odoo_extractors=1,
                          recommender=False, env={"VENDANGE_FILES_ROOT": cls.dir})

    @classmethod
    def tearDownClass(cls):
        bad = cls.stack.close()
        reports = cls.stack.sanitizer_reports()
        cls.pg.close()
        for d in (cls.good, cls.selfsigned, cls.otherhost, cls.plain):
            d.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert not bad, bad
        assert not reports, reports

    def probe(self, double, url=None, ca_file=None):
        """extractor-odoo --test: (ok, the answer)."""
        settings = {"url": url or double.url, "database": double.db, "user": double.login,
                    "api_key": double.api_key}
        if ca_file:
            settings["ca_file"] = ca_file
        path = os.path.join(self.dir, "settings.json")
        with open(path, "w") as f:
            json.dump(settings, f)
        out = subprocess.run([os.path.join(BIN, "extractor-odoo"), "--test", path],
                             capture_output=True, text=True, timeout=60, env=self.stack.env)
        answer = json.loads(out.stdout)
        return answer["ok"], answer

    def test_1_sync_over_https_with_ca_file(self):
        d = self.good
        self.stack.env["VD_TEST_ODOO_KEY"] = d.api_key
        self.stack.cli("connector", "add", "tls", "--type", "odoo", "--set", "url=" + d.url,
                       "--set", "database=" + d.db, "--set", "user=" + d.login, "--set",
                       "api_key=env:VD_TEST_ODOO_KEY", "--set", "ca_file=" + self.ca, "--set",
                       "safety_lag_s=0")
        d.tick(2)
        status, run = self.stack.sync("tls")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.assertGreater(run["tables"]["sales_lines"]["inserted"], 0)
        ok, answer = self.probe(d, ca_file=self.ca)
        self.assertTrue(ok, answer)
        self.assertIn("https://localhost", answer["summary"])

    def test_2_unknown_ca_refused(self):
        ok, answer = self.probe(self.good)  # system CAs only
        self.assertFalse(ok)
        self.assertIn("TLS certificate was refused", answer["error"]["reason"], answer)
        self.assertIn("ca_file", answer["error"]["hint"])

    def test_3_self_signed_refused(self):
        ok, answer = self.probe(self.selfsigned, ca_file=self.ca)
        self.assertFalse(ok)
        self.assertIn("TLS certificate was refused", answer["error"]["reason"], answer)

    def test_4_certificate_for_another_host_refused(self):
        ok, answer = self.probe(self.otherhost, ca_file=self.ca)
        self.assertFalse(ok)
        self.assertIn("TLS certificate was refused", answer["error"]["reason"], answer)

    def test_5_http_only_when_asked(self):
        # https:// to a server that speaks plain HTTP: no fallback to HTTP
        ok, answer = self.probe(self.plain, url=self.plain.url.replace("http://", "https://"),
                                ca_file=self.ca)
        self.assertFalse(ok)
        self.assertNotIn("JSON-2 API answered", json.dumps(answer))
        self.assertIn("no TLS connection", answer["error"]["reason"], answer)
        self.assertIn("https:// for a server with TLS", answer["error"]["hint"], answer)
        # http:// to the TLS server: plain HTTP is not TLS, nothing is read
        ok, answer = self.probe(self.good, url=self.good.url.replace("https://", "http://"))
        self.assertFalse(ok)
        self.assertIn("check the connector's url", json.dumps(answer), answer)
        # http:// to a plain server works: the URL asked for it
        ok, answer = self.probe(self.plain)
        self.assertTrue(ok, answer)


if __name__ == "__main__":
    unittest.main()

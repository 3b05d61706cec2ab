"""Trust between processes (issue 16): CURVE on every ZeroMQ socket, role
checks on the control channel, runs fenced at the loader.

Peers are pyzmq sockets (Debian's python3-zmq) speaking to the real
services: without a key, with a key nobody accepts, with the valid key of
a role that is not the one the message needs."""
import json
import os
import re
import signal
import struct
import time
import unittest

import zmq
import zmq.utils.monitor

from harness import ARTIFACTS, SAMPLES, StackCase, copy_tree, free_port
from test_lossfree import wait_for

TOKEN = "curve-hook-" + "t0k" * 8
API_KEY = "curve-odoo-" + "k3y" * 8
ENDPOINTS = ("VENDANGE_ORCHESTRATOR_ENDPOINT", "VENDANGE_NORMALIZER_ENDPOINT",
             "VENDANGE_LOADER_ENDPOINT")


def read_cert(path):
    """The (public, secret) Z85 keys of a czmq certificate file."""
    with open(path) as f:
        text = f.read()
    keys = dict(re.findall(r'(public-key|secret-key)\s*=\s*"([^"]+)"', text))
    return keys.get("public-key"), keys.get("secret-key")


def pack(obj):
    """msgpack of None, bool, int, str, list and dict (the data envelope)."""
    if obj is None:
        return b"\xc0"
    if isinstance(obj, bool):
        return b"\xc3" if obj else b"\xc2"
    if isinstance(obj, int):
        return struct.pack(">Bq", 0xd3, obj) if obj < 0 else struct.pack(">BQ", 0xcf, obj)
    if isinstance(obj, str):
        raw = obj.encode()
        return struct.pack(">BI", 0xdb, len(raw)) + raw
    if isinstance(obj, list):
        return struct.pack(">BI", 0xdd, len(obj)) + b"".join(pack(o) for o in obj)
    if isinstance(obj, dict):
        return struct.pack(">BI", 0xdf, len(obj)) + b"".join(
            pack(k) + pack(v) for k, v in obj.items())
    raise TypeError(type(obj))


class Curve(StackCase):
    NAME = "curve"
    EXTRACTORS = 0  # the only iSaVigne extractor is the test's own peer
    RECOMMENDER = False
    GATEWAY = True
    ENV = {"VD_TEST_HOOK_TOKEN": TOKEN, "VD_TEST_ODOO_KEY": API_KEY}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.stack
        cls.keys = os.path.join(s.home, "keys")
        cls.ctx = zmq.Context()
        s.cli("connector", "add", "hooks", "--type", "brevo", "--set",
              "token=env:VD_TEST_HOOK_TOKEN")
        s.cli("connector", "add", "erp", "--type", "odoo", "--set", "url=http://127.0.0.1:9",
              "--set", "allow_insecure=true", "--set", "database=d", "--set", "user=u",
              "--set", "api_key=env:VD_TEST_ODOO_KEY")
        cls.export = copy_tree(os.path.join(SAMPLES, "isavigne"))
        s.add_isavigne("shop", cls.export)

    @classmethod
    def tearDownClass(cls):
        cls.ctx.destroy(linger=0)
        super().tearDownClass()

    # ------------------------------------------------------------ peers

    def peer(self, kind, endpoint, role=None, stranger=False, monitor=False, pair=None):
        """A socket connected to endpoint: without CURVE (role None and not
        stranger), with an unknown key (stranger), with role's key, or
        with the key pair given (pair, as read_cert gives it)."""
        sock = self.ctx.socket(kind)
        sock.linger = 0
        if role or stranger or pair:
            if stranger:
                pub, sec = zmq.curve_keypair()
            elif pair:
                pub, sec = (k.encode() for k in pair)
            else:
                pub, sec = (k.encode() for k in read_cert(
                    os.path.join(self.keys, role + ".key")))
            server_role = {"VENDANGE_ORCHESTRATOR_ENDPOINT": "orchestrator",
                           "VENDANGE_NORMALIZER_ENDPOINT": "normalizer",
                           "VENDANGE_LOADER_ENDPOINT": "loader"}[endpoint]
            server, _ = read_cert(os.path.join(self.keys, "public", server_role + ".pub"))
            sock.curve_publickey, sock.curve_secretkey = pub, sec
            sock.curve_serverkey = server.encode()
        mon = sock.get_monitor_socket() if monitor else None
        sock.connect(self.stack.env[endpoint])
        self.addCleanup(self.close_peer, sock, mon)
        return sock, mon

    @staticmethod
    def close_peer(sock, mon, seconds=10.0):
        """Closes a peer, then its monitor. Never the other way round:
        libzmq (4.3.4) sends a socket's monitor events with a blocking send,
        from the context's I/O thread (connect, handshake, disconnect) and
        from its reaper (MONITOR_STOPPED when the socket is destroyed); once
        the monitor's PAIR is closed, the next event blocks that thread for
        good, and with it every later peer of the context: they never
        connect, their messages stay queued until the context is destroyed.
        So the socket goes first and its events are read up to its last,
        MONITOR_STOPPED, after which nothing more is sent to the monitor."""
        sock.close(0)
        if mon is None:
            return
        deadline = time.time() + seconds
        stopped = False
        while not stopped and mon.poll(int(max(1, (deadline - time.time()) * 1000))):
            stopped = (zmq.utils.monitor.recv_monitor_message(mon)["event"]
                       == zmq.EVENT_MONITOR_STOPPED)
        mon.close(0)
        assert stopped, "a peer's monitor got no MONITOR_STOPPED within %g s" % seconds

    def context_works(self, seconds=3.0):
        """True when the test's context still carries a message over TCP
        (its I/O thread is not blocked)."""
        pull, push = self.ctx.socket(zmq.PULL), self.ctx.socket(zmq.PUSH)
        try:
            pull.linger = push.linger = 0
            push.connect("tcp://127.0.0.1:%d" % pull.bind_to_random_port("tcp://127.0.0.1"))
            push.send(b"canary")
            return bool(pull.poll(int(seconds * 1000)))
        finally:
            push.close(0)
            pull.close(0)

    def setUp(self):
        # last cleanup of every test, after its peers are closed: a blocked
        # context fails the test that blocked it, not the ones after it
        self.addCleanup(lambda: self.assertTrue(
            self.context_works(), "the test's ZeroMQ context no longer carries messages "
            "(its I/O thread is blocked: a monitor closed before its socket?)"))

    @staticmethod
    def handshake(mon, seconds=3.0):
        """True when the handshake succeeded, False when it failed or
        nothing came of it within seconds."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not mon.poll(int(max(1, (deadline - time.time()) * 1000))):
                break
            event = zmq.utils.monitor.recv_monitor_message(mon)["event"]
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                return True
            if event in (zmq.EVENT_HANDSHAKE_FAILED_AUTH, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                         zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
                return False
        return False

    def heartbeat(self, sock, role, kind, instance, state="idle", run_id=0):
        msg = {"type": "heartbeat", "role": role, "kind": kind, "instance": instance,
               "pid": os.getpid(), "host": "curve-test", "state": state, "run_id": run_id,
               "version": "0.1.0"}
        sock.send(json.dumps(msg).encode())

    def listen(self, sock, seconds, beat=None):
        """Every control message sock receives within seconds (beat():
        called every half second, heartbeats)."""
        got, deadline, next_beat = [], time.time() + seconds, 0
        while time.time() < deadline:
            if beat and time.time() >= next_beat:
                beat()
                next_beat = time.time() + 0.5
            if sock.poll(100):
                got.append(sock.recv_multipart()[0].decode("utf-8", "replace"))
        return got

    # ------------------------------------------------------------ tests

    def test_0_closing_a_monitored_peer_keeps_the_context_working(self):
        # a peer whose connection is refused: a monitor event every 100 ms
        # (each reconnection), from the I/O thread, up to the close
        sock = self.ctx.socket(zmq.DEALER)
        sock.linger = 0
        mon = sock.get_monitor_socket()
        sock.connect("tcp://127.0.0.1:%d" % free_port())
        time.sleep(0.5)
        self.close_peer(sock, mon)  # asserts its monitor saw MONITOR_STOPPED
        time.sleep(0.5)  # a reconnection would have sent an event by now
        self.assertTrue(self.context_works(), "closing a monitored peer blocked the context")

    def test_1_no_key_no_handshake(self):
        for endpoint in ENDPOINTS:
            kind = zmq.DEALER if endpoint == ENDPOINTS[0] else zmq.PUSH
            _, mon = self.peer(kind, endpoint, monitor=True)
            self.assertFalse(self.handshake(mon), "%s: handshake without a key" % endpoint)
            _, mon = self.peer(kind, endpoint, stranger=True, monitor=True)
            self.assertFalse(self.handshake(mon), "%s: handshake with an unknown key" % endpoint)
        # the right key of a role that does not feed that socket: refused too
        _, mon = self.peer(zmq.PUSH, "VENDANGE_LOADER_ENDPOINT", role="extractor-isavigne",
                           monitor=True)
        self.assertFalse(self.handshake(mon), "an extractor's key opened the loader's socket")
        # and a service's own key is accepted (the test would pass on a closed port)
        _, mon = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT", role="recommender",
                           monitor=True)
        self.assertTrue(self.handshake(mon), "the recommender's key was refused")

    def test_2_wrong_role_receives_no_secret(self):
        # the valid key of an iSaVigne extractor, passing for the webhook
        # gateway, then for an Odoo extractor (its own role, another kind)
        sock, _ = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT",
                            role="extractor-isavigne")

        def beat():
            self.heartbeat(sock, "extractor-webhook", "webhook", "extractor-webhook:fake:1")
            self.heartbeat(sock, "extractor-isavigne", "odoo", "extractor-isavigne:fake:2")

        status, _ = self.stack.api_call("POST", "/api/connectors/erp/test", {})
        self.assertLess(status, 300)
        got = self.listen(sock, 6, beat)
        for text in got:
            self.assertNotIn(TOKEN, text)
            self.assertNotIn(API_KEY, text)
        # neither heartbeat made it into the registry
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.services WHERE instance"
                                       " LIKE '%fake%'"), "0")

    def test_3_wrong_role_cannot_mark_a_run_done(self):
        sock, _ = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT",
                            role="extractor-isavigne")
        state = {"busy": 0}

        def beat():
            self.heartbeat(sock, "extractor-isavigne", "isavigne", "extractor-isavigne:peer:3",
                           "busy" if state["busy"] else "idle", state["busy"])

        beat()
        time.sleep(0.5)
        self.stack.cli("sync", "shop")
        run_id = 0
        deadline = time.time() + 20
        while not run_id and time.time() < deadline:
            for text in self.listen(sock, 0.5, beat):
                msg = json.loads(text)
                if msg.get("type") == "start":
                    run_id = msg["run_id"]
        self.assertTrue(run_id, "the peer was handed no run")
        state["busy"] = run_id
        base = {"run_id": run_id, "instance": "extractor-isavigne:peer:3"}
        # it holds the run: "extracted" is its to say; "loaded" is the loader's
        sock.send(json.dumps(dict(base, type="extracted", role="extractor-isavigne",
                                  records=0, files=[], errors=[],
                                  cursor_after=None)).encode())
        sock.send(json.dumps(dict(base, type="loaded", role="extractor-isavigne",
                                  records=0)).encode())
        sock.send(json.dumps(dict(base, type="loaded", role="loader", records=0)).encode())
        self.listen(sock, 3, beat)
        self.assertEqual(self.pg.value("SELECT status FROM ops.sync_runs WHERE id = %d"
                                       % run_id), "running")
        self.assertIsNone(self.pg.value("SELECT cursor FROM ops.connectors WHERE name = 'shop'"))
        sock.send(json.dumps(dict(base, type="failed", role="extractor-isavigne",
                                  error={"reason": "test peer gives up"})).encode())
        deadline = time.time() + 10
        while time.time() < deadline and self.pg.value(
                "SELECT status FROM ops.sync_runs WHERE id = %d" % run_id) == "running":
            self.listen(sock, 0.3, beat)
        self.assertEqual(self.pg.value("SELECT status FROM ops.sync_runs WHERE id = %d"
                                       % run_id), "failed")

    def raw_customers(self, sock, run_id, code):
        body = {"source": "isavigne", "connector": "shop", "file": "clients.csv",
                "cols": ["customer_code", "last_name", "first_name", "email", "phone"],
                "rows": [[2, [code, "Intrus", "Eve", "eve@example.org", ""]]]}
        sock.send(pack([1, 1, run_id, 1, 1, body]))
        end = {"connector": "shop", "extracted": {"customers": 1}, "records": 1}
        sock.send(pack([1, 3, run_id, 2, -1, end]))

    def delete_customers(self, sock, run_id, ids):
        body = {"source": "isavigne", "connector": "shop", "file": "clients.csv",
                "mode": "listed", "ids": ids}
        sock.send(pack([1, 4, run_id, 1, 1, body]))
        end = {"connector": "shop", "extracted": {}, "records": 0, "deletes": 1}
        sock.send(pack([1, 3, run_id, 2, -1, end]))

    def wait_log(self, service, *needles):
        path = os.path.join(ARTIFACTS, "curve-%s.log" % service)
        deadline = time.time() + 15
        while time.time() < deadline:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if all(n in text for n in needles):
                return
            time.sleep(0.2)
        self.fail("%s never logged %s" % (service, needles))

    def test_4_batches_of_runs_not_announced_are_refused(self):
        # a real extractor loads the sample export (the test's peer is gone)
        time.sleep(4)
        self.stack.start("extractor-isavigne", "extractor-isavigne-real")
        self.stack.wait_ready(1)
        status, run = self.stack.sync("shop")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        before = self.pg.value("SELECT count(*) FROM canonical.customers")
        ids = [r[0] for r in self.pg.psql("SELECT source_id FROM canonical.customers")]
        # runs are the orchestrator's to announce: one never announced, one failed
        failed = int(self.pg.value(
            "INSERT INTO ops.sync_runs (connector, connector_type, status, trigger, started_at,"
            " finished_at) VALUES ('shop', 'isavigne', 'failed', 'manual', now(), now())"
            " RETURNING id"))
        # an extractor's key may feed the normalizer: it converts nothing of them
        sock, _ = self.peer(zmq.PUSH, "VENDANGE_NORMALIZER_ENDPOINT", role="extractor-isavigne")
        self.raw_customers(sock, 987654321, "INTRUS-1")
        self.raw_customers(sock, failed, "INTRUS-2")
        self.wait_log("normalizer", "records of run 987654321 refused",
                      "records of run %d refused" % failed)
        # the normalizer's key may feed the loader: it writes nothing of them
        # (here: deletions of every customer at the end of the run)
        sock, _ = self.peer(zmq.PUSH, "VENDANGE_LOADER_ENDPOINT", role="normalizer")
        self.delete_customers(sock, 987654321, ids)
        self.delete_customers(sock, failed, ids)
        self.wait_log("loader", "records of run 987654321 refused",
                      "records of run %d refused" % failed)
        time.sleep(1.0)  # anything that would be written is written by now
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers"), before)
        self.assertEqual(self.pg.value("SELECT count(*) FROM canonical.customers WHERE"
                                       " customer_key LIKE '%INTRUS%'"), "0")
        self.assertEqual(self.pg.value("SELECT count(*) FROM ops.run_tables WHERE run_id IN"
                                       " (987654321, %d)" % failed), "0")

    def test_5_rotation_loses_no_run(self):
        # the real extractor of test 4 holds the old key while it is rotated
        if "extractor-isavigne-real" not in self.stack.procs:
            self.stack.start("extractor-isavigne", "extractor-isavigne-real")
        self.stack.wait_ready(1)
        path = os.path.join(self.keys, "extractor-isavigne.key")
        old = read_cert(path)
        self.stack.cli("keys", "rotate", "extractor-isavigne")
        new = read_cert(path)
        self.assertNotEqual(old, new)
        for pair in (old, new):  # both accepted while the rotation is under way
            _, mon = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT", pair=pair,
                               monitor=True)
            self.assertTrue(self.handshake(mon))
        status, run = self.stack.sync("shop")  # the running extractor, old key
        self.assertEqual((status, run["status"]), (0, "success"), run)
        old_pid = self.stack.procs["extractor-isavigne-real"].pid
        self.stack.kill("extractor-isavigne-real", signal.SIGTERM)  # restarted: new key
        new_pid = self.stack.start("extractor-isavigne", "extractor-isavigne-real").pid
        # the orchestrator hands the next run to the restarted extractor only:
        # wait until it has heard from it and no longer counts the old one
        wait_for(lambda: (lambda alive: new_pid in alive and old_pid not in alive)(
            [s.get("pid") for s in self.stack.get("/api/status")["services"]
             if s.get("alive") and s.get("role") == "extractor-isavigne"]), 60,
            "the restarted extractor registered, the old one gone")
        status, run = self.stack.sync("shop")
        self.assertEqual((status, run["status"]), (0, "success"), run)
        self.stack.cli("keys", "retire", "extractor-isavigne")
        _, mon = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT", pair=old, monitor=True)
        self.assertFalse(self.handshake(mon), "a retired key still opens the control channel")
        _, mon = self.peer(zmq.DEALER, "VENDANGE_ORCHESTRATOR_ENDPOINT", pair=new, monitor=True)
        self.assertTrue(self.handshake(mon))


if __name__ == "__main__":
    unittest.main()

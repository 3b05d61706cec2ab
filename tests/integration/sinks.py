"""Local sinks for the alert notifications: a small SMTP server (EHLO,
STARTTLS, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and an
HTTP server taking POSTs. Each keeps what it accepted; the HTTP sink can
be told to answer the next requests with an error (retries)."""
import base64
import email
import email.policy
import http.server
import json
import socket
import ssl
import threading


class SmtpSink:
    """An SMTP server on a free loopback port. With cert/key it offers
    STARTTLS and refuses MAIL before it; with user/password it wants AUTH."""

    def __init__(self, cert=None, key=None, user=None, password=None):
        self.messages = []  # (envelope from, [rcpt], email.message.Message, user)
        self.auth_failures = 0
        self.lock = threading.Lock()
        self.ctx = None
        if cert:
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(cert, key)
        self.user, self.password = user, password
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        try:
            self._dialog(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            conn.close()

    def _dialog(self, conn):
        f = conn.makefile("rb")
        send = lambda text: conn.sendall((text + "\r\n").encode())
        send("220 sink ESMTP")
        tls, authed, sender, rcpts = False, self.user is None, None, []
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                caps = ["250-sink"]
                if self.ctx and not tls:
                    caps.append("250-STARTTLS")
                if self.user and (tls or not self.ctx):
                    caps.append("250-AUTH PLAIN LOGIN")
                caps.append("250 8BITMIME")
                send("\r\n".join(caps))
            elif verb == "STARTTLS" and self.ctx and not tls:
                send("220 go ahead")
                conn = self.ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                send = lambda text, c=conn: c.sendall((text + "\r\n").encode())
                tls = True
            elif verb == "AUTH":
                authed = self._auth(cmd, f, send)
            elif verb == "MAIL":
                if (self.ctx and not tls) or not authed:
                    send("530 authentication or STARTTLS required")
                    continue
                sender, rcpts = cmd[10:].strip(), []
                send("250 ok")
            elif verb == "RCPT":
                rcpts.append(cmd[8:].strip())
                send("250 ok")
            elif verb == "DATA":
                send("354 end with .")
                data = []
                while True:
                    l = f.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    data.append(l[1:] if l.startswith(b"..") else l)
                msg = email.message_from_bytes(b"".join(data), policy=email.policy.default)
                with self.lock:
                    self.messages.append((sender, rcpts, msg))
                send("250 queued")
            elif verb == "QUIT":
                send("221 bye")
                return
            else:
                send("250 ok")

    def _auth(self, cmd, f, send):
        parts = cmd.split()
        mech = parts[1].upper() if len(parts) > 1 else ""
        if mech == "PLAIN":
            if len(parts) > 2:
                blob = parts[2]
            else:
                send("334 ")
                blob = f.readline().decode().strip()
            _, user, password = base64.b64decode(blob).decode().split("\0")
        elif mech == "LOGIN":
            send("334 VXNlcm5hbWU6")
            user = base64.b64decode(f.readline().strip()).decode()
            send("334 UGFzc3dvcmQ6")
            password = base64.b64decode(f.readline().strip()).decode()
        else:
            send("504 unknown mechanism")
            return False
        if (user, password) == (self.user, self.password):
            send("235 ok")
            return True
        self.auth_failures += 1
        send("535 authentication failed")
        return False

    def subjects(self):
        with self.lock:
            return [str(m["Subject"]) for _, _, m in self.messages]

    def close(self):
        self.running = False
        self.sock.close()


class HttpSink:
    """An HTTP server on a free loopback port keeping every POST body
    (parsed JSON) it answered 2xx; fail(n) makes the next n POSTs 500s."""

    def __init__(self):
        sink = self
        self.posts, self.paths, self.refused = [], [], 0
        self.failures_left = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    if sink.failures_left > 0:
                        sink.failures_left -= 1
                        sink.refused += 1
                        status = 500
                    else:
                        sink.posts.append(json.loads(body))
                        sink.paths.append(self.path)
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, n):
        with self.lock:
            self.failures_left = n

    def texts(self):
        with self.lock:
            return [p.get("text", "").split("\n", 1)[0] for p in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

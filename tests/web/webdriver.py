"""A small W3C WebDriver client over HTTP (urllib) for chromedriver, and
the headless Chromium it drives (Debian's chromium and chromium-driver)."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars"]


class WebDriverError(Exception):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """chromedriver on a free port, one Chromium session with a fresh
    profile whose language (navigator.languages, Accept-Language) is lang;
    close() ends both."""

    def __init__(self, log_path, width=1280, height=900, lang="en-US"):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="vd-chromium-")
        self.log = open(log_path, "wb")
        self.driver = subprocess.Popen(["chromedriver", "--port=%d" % self.port],
                                       stdout=self.log, stderr=self.log,
                                       stdin=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.time() + 30
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if time.time() > deadline:
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.2)
        binary = shutil.which("chromium") or "/usr/bin/chromium"
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": CHROMIUM_ARGS + ["--user-data-dir=" + self.profile,
                                         "--window-size=%d,%d" % (width, height),
                                         "--lang=" + lang, "--accept-lang=" + lang],
                "prefs": {"intl.accept_languages": lang}}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                answer = json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            answer = json.loads(e.read().decode() or "{}")
            value = answer.get("value", {})
            raise WebDriverError("%s %s: %s: %s" % (method, path, value.get("error"),
                                                    value.get("message", "")[:300]))
        return answer.get("value", answer) if path != "/session" else answer["value"]

    def cmd(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    # navigation and page
    def go(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def resize(self, width, height):
        self.cmd("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path):
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)
        return path

    # elements
    def find_all(self, css):
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[ELEMENT]) for e in found]

    def wait(self, css, text=None, timeout=60):
        """The first element matching css (and holding text), polled."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                for e in self.find_all(css):
                    last = e.text
                    if text is None or text in last:
                        return e
            except WebDriverError:
                pass  # the page re-rendered under us
            time.sleep(0.2)
        raise AssertionError("no %s%s within %ss (last text: %r)" % (
            css, " with %r" % text if text else "", timeout, last))

    def close(self):
        try:
            self.cmd("DELETE", "")
        except (OSError, WebDriverError):
            pass
        self.driver.terminate()
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Element:
    def __init__(self, browser, eid):
        self.b = browser
        self.id = eid

    def _p(self, suffix):
        return "/element/%s%s" % (self.id, suffix)

    @property
    def text(self):
        return self.b.cmd("GET", self._p("/text"))

    def attribute(self, name):
        """The element's attribute name as written (None when absent)."""
        return self.b.cmd("GET", self._p("/attribute/" + name))

    def click(self):
        self.b.cmd("POST", self._p("/click"), {})

    def type(self, text):
        self.b.cmd("POST", self._p("/clear"), {})
        self.b.cmd("POST", self._p("/value"), {"text": text})

    def find(self, css):
        e = self.b.cmd("POST", self._p("/element"), {"using": "css selector", "value": css})
        return Element(self.b, e[ELEMENT])

    def find_all(self, css):
        found = self.b.cmd("POST", self._p("/elements"), {"using": "css selector", "value": css})
        return [Element(self.b, e[ELEMENT]) for e in found]

    def displayed(self):
        return self.b.cmd("GET", self._p("/displayed"))

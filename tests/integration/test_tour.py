"""The README's "A five-minute tour", run as printed.

The code blocks of that section are read from README.md (so the test
follows the README) and run as one bash script against a PostgreSQL of
the test's own and the services started by `vendange up`, on free ports
and a temporary state folder. What cannot run here as written is
replaced, explicitly (SUBSTITUTIONS): `make demo` by what it runs once the
packages are installed and the binaries built (deploy/demo.sh), the
build folder by the test build ($VD_BIN), the export folder by a copy of
samples/isavigne, the embedded database's address by the test's. An
indented line under a command is that command's input (psql's SQL).
Every command must exit 0, and its output must show what the README's
comment says (EXPECTED)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import ARTIFACTS, BIN, ROOT, SAMPLES, Postgres, copy_tree, free_port, stack_env

SECTION = "## A five-minute tour"
# (text of the README, what the test runs instead): each must be used
SUBSTITUTIONS = [
    ("make demo", 'sh deploy/demo.sh "$VD_BIN"'),
    ("export PATH=$PWD/build/bin:$PATH", 'export PATH="$VD_BIN:$PATH"'),
    ("/srv/exports/isavigne", '"$TOUR_EXPORT"'),
    ('"postgresql:///vendange?host=/var/lib/vendange/pg&port=54329&user=postgres"',
     '"$DATABASE_URL" -v ON_ERROR_STOP=1'),
]
# (a regular expression matching a command of the tour, one its output
# must match): each must match a command
EXPECTED = [
    (r"^make demo$", r"run \d+ of demo: success"),
    (r"^vendange status$", r"extractor-isavigne.*\n(.*\n)*demo\s+isavigne\s+healthy"),
    (r"^vendange connector add shop", r"connector shop added"),
    (r"^vendange sync shop --wait$", r"run \d+ of shop: success"),
    (r"^vendange runs shop$", r"shop\s+success"),
    (r"^vendange runs shop --json$", r"^\s*\["),
    (r"^vendange warnings 2$", r"customers\s+clients\.csv\s+email\s+invalid email address\s+1"),
    (r"^vendange warnings --lines 3$", r"^clients\.csv:\d+$"),
    (r"^vendange connector test shop$", r"\bok\b"),
    (r"^vendange connector show shop$", r"daily 02:30"),
    (r"^vendange forget ", r"forget \d+: 1 customer row\(s\) erased, [1-9]\d* sales line"),
    (r"^vendange reco isavigne-C0001$", r"recommendations \(run \d+.*\n\s+1\. "),
    (r"^psql ", r"total_spent|isavigne-C0"),
]


def tour_blocks(readme):
    """The ```sh blocks of the tour section, as lists of lines."""
    start = readme.index("\n" + SECTION + "\n")
    end = readme.find("\n## ", start + 1)
    section = readme[start:end if end > 0 else len(readme)]
    return [b.split("\n") for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def tour_commands(blocks):
    """[(command, input lines)]: comments dropped, an indented line is
    input of the command above it."""
    commands = []
    for lines in blocks:
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0].isspace():
                commands[-1][1].append(line.strip())
                continue
            commands.append((re.sub(r"\s+#\s.*$", "", line).strip(), []))
    return commands


def substitute(command, used):
    for i, (text, replacement) in enumerate(SUBSTITUTIONS):
        if command == text or (text in command and text != "make demo"):
            used.add(i)
            command = command.replace(text, replacement)
    return command


def script(commands):
    """A bash script that marks each command's output and stops at the
    first command that fails, saying which."""
    used = set()
    out = ["cd %s" % ROOT]
    for n, (command, stdin) in enumerate(commands):
        out.append("printf '\\n@@tour %d\\n'" % n)
        line = substitute(command, used)
        if stdin:
            out.append(line + " <<'TOUR_INPUT' || { s=$?; echo \"@@failed %d $s\"; exit 1; }" % n)
            out += stdin + ["TOUR_INPUT"]
        else:
            out.append("%s || { s=$?; echo \"@@failed %d $s\"; exit 1; }" % (line, n))
    unused = [SUBSTITUTIONS[i][0] for i in range(len(SUBSTITUTIONS)) if i not in used]
    return "\n".join(out) + "\n", unused


class Tour(unittest.TestCase):

    def setUp(self):
        self.pg = Postgres()
        self.home = tempfile.mkdtemp(prefix="vd-tour-")
        self.env = stack_env(self.pg, self.home)
        self.env.update({"VD_BIN": BIN, "TOUR_EXPORT": copy_tree(os.path.join(SAMPLES, "isavigne")),
                         "VENDANGE_WEBHOOK_ADDR": "127.0.0.1:%d" % free_port()})

    def tearDown(self):
        subprocess.run([os.path.join(BIN, "vendange"), "down"], env=self.env,
                       capture_output=True, timeout=120)
        reports = []
        logs = os.path.join(self.home, "log")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), "rb") as f:
                text = f.read()
            with open(os.path.join(ARTIFACTS, "tour-" + name), "wb") as f:
                f.write(text)
            for marker in (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:"):
                if marker in text:
                    reports.append("%s: %s" % (name, marker.decode()))
        shutil.rmtree(self.env["TOUR_EXPORT"], ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        self.pg.close()
        self.assertEqual(reports, [])

    def test_the_tour_runs_as_printed(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            commands = tour_commands(tour_blocks(f.read()))
        self.assertGreaterEqual(len(commands), 10, commands)
        text, unused = script(commands)
        self.assertEqual(unused, [], "the README's tour no longer has these: update SUBSTITUTIONS")
        os.makedirs(ARTIFACTS, exist_ok=True)
        out = subprocess.run(["bash", "-c", text], env=self.env, capture_output=True, text=True,
                             timeout=600)
        with open(os.path.join(ARTIFACTS, "tour.out"), "w") as f:
            f.write(text + "\n---- stdout\n" + out.stdout + "\n---- stderr\n" + out.stderr)
        failed = re.search(r"^@@failed (\d+) (\d+)$", out.stdout, re.M)
        if failed:
            self.fail("the tour's command `%s` exited %s:\n%s\n%s" % (
                commands[int(failed.group(1))][0], failed.group(2), out.stdout[-3000:],
                out.stderr[-3000:]))
        self.assertEqual(out.returncode, 0, out.stderr)
        outputs = dict((int(n), body) for n, body in
                       re.findall(r"^@@tour (\d+)\n(.*?)(?=^@@tour |\Z)", out.stdout, re.M | re.S))
        for pattern, shows in EXPECTED:
            matching = [n for n, (c, _) in enumerate(commands) if re.search(pattern, c)]
            self.assertTrue(matching, "no command of the tour matches %r: update EXPECTED" % pattern)
            for n in matching:
                self.assertRegex(outputs.get(n, ""), re.compile(shows, re.M),
                                 "output of `%s`" % commands[n][0])
        # the second sync of the unchanged folder: every file unchanged
        syncs = [n for n, (c, _) in enumerate(commands) if c == "vendange sync shop --wait"]
        self.assertEqual(len(syncs), 2)
        second = outputs[syncs[1]]
        self.assertEqual(len(re.findall(r"^\s+\S+\.csv unchanged", second, re.M)), 4, second)
        self.assertRegex(second, r"(?m)^total\s+0\s+0\s+0\s+0\s+0$")
        runs = json.loads(outputs[[n for n, (c, _) in enumerate(commands)
                                   if c == "vendange runs shop --json"][0]])
        self.assertEqual([r["status"] for r in runs], ["success"])


if __name__ == "__main__":
    unittest.main()

"""Drive one Bochs lab run from Python (stdlib only).

    with Lab(build, disk, rundir, hvctl=path) as lab:
        lab.wait_console(r"GUEST-READY", timeout=300)
        rc, out, err = lab.hvctl("status", "--json")

The lab is started with tools/lab/run-bochs.sh --detach and always stopped with
tools/lab/stop-lab.sh (context-manager exit, atexit, and SIGTERM/SIGINT/SIGHUP
handlers). Only one Bochs runs on the machine at a time: run-bochs.sh waits for
the machine-wide lock, so two Labs in a row (or in two programs) serialize.

Files of a run (RUNDIR): com1.log (guest console), hvcon (monitor console tty),
com2-from-bochs.raw (every byte the emulated COM2 UART transmitted),
com2-to-bochs.raw (every byte sent to it), bochs.log, bochs.out, hvctl.log.
"""

import atexit
import os
import re
import signal
import subprocess
import sys
import termios
import time
import tty

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_BOCHS = os.path.join(REPO, "tools", "lab", "run-bochs.sh")
STOP_LAB = os.path.join(REPO, "tools", "lab", "stop-lab.sh")

ANSI_RE = re.compile(r"\x1b(\[[0-9;=?]*[A-Za-z]|[()][A-Za-z0-9]|[A-Za-z=>])")


class LabError(Exception):
    """The lab could not be started, or died, or something it waited for never came."""


class LabTimeout(LabError):
    pass


class LabDied(LabError):
    pass


# --------------------------------------------------------------------------- cleanup
_active = []
_handlers_installed = False


def _stop_all():
    for lab in list(_active):
        try:
            lab.stop()
        except Exception as e:  # never let cleanup hide the real error
            print(f"lab: stopping {lab.rundir} failed: {e}", file=sys.stderr)


def _on_signal(signum, _frame):
    _stop_all()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        try:
            signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # not the main thread
            pass


# --------------------------------------------------------------------------- helpers
def clean_line(raw):
    """A console line without ANSI escapes, carriage returns and other control bytes."""
    s = ANSI_RE.sub("", raw)
    return "".join(c for c in s if c == "\t" or (" " <= c and c != "\x7f")).strip()


def tail_text(path, lines=40, raw=False):
    """The last LINES lines of a file, for diagnostics ('' when missing)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read()
    except OSError as e:
        return f"({path}: {e.strerror})"
    if raw:
        text = data[-3000:].decode("latin-1")
        text = "".join(c if (c in "\n\t" or " " <= c <= "~") else f"\\x{ord(c):02x}" for c in text)
        return "\n".join(text.split("\n")[-lines:])
    out = [clean_line(l) for l in data.decode("utf-8", "replace").split("\n")]
    return "\n".join(out[-lines:])


def parse_kv(line):
    """'GUEST-X a=1 b=two' -> {'a': '1', 'b': 'two'} (words without '=' are skipped)."""
    out = {}
    for word in line.split():
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = v
    return out


class ConsoleLog:
    """Incremental reader of a growing log file, split into lines.

    lines[i] is the i-th complete line (cleaned), seen[i] the wall time (time.time())
    at which this reader first saw it."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.lines = []
        self.seen = []

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return 0
        if not data:
            return 0
        self.offset += len(data)
        buf = self.partial + data
        parts = buf.split(b"\n")
        self.partial = parts.pop()
        now = time.time()
        for p in parts:
            self.lines.append(clean_line(p.decode("utf-8", "replace")))
            self.seen.append(now)
        return len(parts)


# --------------------------------------------------------------------------- the lab
class Lab:
    def __init__(self, build, disk, rundir, hvctl=None, timeout=1200, lock_timeout=1800,
                 hvctl_log=True, quiet=False, cpu_model=None, cpus=1, bochs=None):
        self.build = os.path.abspath(build)
        self.disk = os.path.abspath(disk)
        self.rundir = os.path.abspath(rundir)
        self.hvctl_path = os.path.abspath(hvctl) if hvctl else None
        self.timeout = int(timeout)  # the lab's whole life; its supervisor enforces it
        self.lock_timeout = int(lock_timeout)
        self.hvctl_log = hvctl_log
        self.quiet = quiet
        self.cpu_model = cpu_model  # another Bochs CPU model (run-bochs.sh --cpu-model)
        self.cpus = int(cpus)  # processors of the machine (run-bochs.sh --cpus)
        self.bochs = bochs  # another Bochs binary (run-bochs.sh --bochs)
        self.hvcon = os.path.join(self.rundir, "hvcon")
        self.com1 = ConsoleLog(os.path.join(self.rundir, "com1.log"))
        self.blog = ConsoleLog(os.path.join(self.rundir, "bochs.log"))
        self.proc = None
        self.bochs_pid = None
        self.t_start = None  # before run-bochs.sh (includes waiting for the lock)
        self.t_bochs = None  # Bochs process started
        self.t_stop = None
        self.running = False

    def path(self, name):
        return os.path.join(self.rundir, name)

    # ------------------------------------------------------------------ life
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        _install_handlers()
        _active.append(self)
        os.makedirs(self.rundir, exist_ok=True)
        for stale in ("hvctl.log",):
            try:
                os.unlink(self.path(stale))
            except FileNotFoundError:
                pass
        cmd = ["bash", RUN_BOCHS, "--build", self.build, "--disk", self.disk,
               "--rundir", self.rundir, "--detach", "--timeout", str(self.timeout),
               "--lock-timeout", str(self.lock_timeout)]
        if self.cpu_model:
            cmd += ["--cpu-model", self.cpu_model]
        if self.cpus != 1:
            cmd += ["--cpus", str(self.cpus)]
        if self.bochs:
            cmd += ["--bochs", self.bochs]
        self.t_start = time.time()
        self.running = True
        # Not a pipe for stderr: run-bochs.sh's children must not hold our pipe open.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=sys.stderr if not self.quiet else subprocess.DEVNULL,
                                     stderr=sys.stderr if not self.quiet else subprocess.DEVNULL)
        try:
            rc = self.proc.wait(timeout=self.lock_timeout + 120)
        except subprocess.TimeoutExpired:
            self.stop()
            raise LabError("run-bochs.sh --detach did not return")
        self.proc = None
        if rc != 0:
            self.stop()
            raise LabError(f"run-bochs.sh failed (status {rc}); see {self.rundir}/bochs.out")
        try:
            with open(self.path("bochs.pid")) as f:
                self.bochs_pid = int(f.read().strip())
            with open(self.path("started")) as f:
                self.t_bochs = float(f.read().strip())
        except (OSError, ValueError) as e:
            self.stop()
            raise LabError(f"lab started without pid/started files: {e}")

    def stop(self):
        if self in _active:
            _active.remove(self)
        if not self.running:
            return
        self.running = False
        if self.proc is not None and self.proc.poll() is None:
            # still starting (maybe waiting for the lock): its own trap cleans up
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        subprocess.run(["bash", STOP_LAB, self.rundir, "--quiet"], stdin=subprocess.DEVNULL,
                       timeout=120, check=False)
        self.t_stop = time.time()

    def alive(self):
        """Bochs still runs (not a zombie)."""
        if not self.bochs_pid:
            return False
        try:
            with open(f"/proc/{self.bochs_pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{self.bochs_pid}/comm") as f:
                comm = f.read().strip()
        except (OSError, IndexError):
            return False
        return st not in ("Z", "X") and comm in ("bochs", "bochs-bin")

    # ------------------------------------------------------------------ guest console
    def console_lines(self):
        """All complete guest console lines so far (cleaned)."""
        self.com1.poll()
        return self.com1.lines

    def console_mark(self):
        """An index to pass as since= so that only later lines are searched."""
        self.com1.poll()
        return len(self.com1.lines)

    def panics(self):
        """Bochs '>>PANIC<<' lines so far (a triple fault of the host, a bad VMX state,
        ...: with panic: action=report Bochs logs them and goes on, often stuck)."""
        self.blog.poll()
        return [l for l in self.blog.lines if ">>PANIC<<" in l]

    def wait_console(self, regex, timeout, since=0, count=1, fail_on_panic=True):
        """Wait until COUNT lines at index >= SINCE match REGEX (re.search).

        Returns the match of the COUNT-th such line; its index is in match.lineno and the
        wall time it was seen in match.seen (attributes set on a small wrapper).
        Raises LabTimeout, or LabDied if Bochs ends (or panics, with FAIL_ON_PANIC) first."""
        rx = re.compile(regex)
        deadline = time.time() + timeout
        i = since
        found = 0
        while True:
            self.com1.poll()
            while i < len(self.com1.lines):
                m = rx.search(self.com1.lines[i])
                if m:
                    found += 1
                    if found >= count:
                        return Match(m, i, self.com1.seen[i])
                i += 1
            if not self.alive():
                self.com1.poll()
                if i < len(self.com1.lines):
                    continue
                raise LabDied(f"Bochs ended while waiting for /{regex}/")
            if fail_on_panic and self.panics():
                raise LabDied(f"Bochs panicked while waiting for /{regex}/: {self.panics()[0]}")
            if time.time() >= deadline:
                raise LabTimeout(f"/{regex}/ not seen on the guest console within {timeout}s"
                                 f" ({found} of {count})")
            time.sleep(0.1)

    def find_console(self, regex, since=0):
        """All matches of REGEX in the console lines so far (list of Match)."""
        rx = re.compile(regex)
        self.com1.poll()
        out = []
        for i in range(since, len(self.com1.lines)):
            m = rx.search(self.com1.lines[i])
            if m:
                out.append(Match(m, i, self.com1.seen[i]))
        return out

    # ------------------------------------------------------------------ monitor console
    def hvctl(self, *args, timeout=10, console=None, log=None, stdin=None):
        """Run hvctl with --console RUNDIR/hvcon --log RUNDIR/hvctl.log --timeout T ARGS.

        Returns (exit status, stdout, stderr); exit status 124 when hvctl itself hung
        (killed after T + 20 s)."""
        if not self.hvctl_path:
            raise LabError("no hvctl given")
        cmd = [self.hvctl_path, "--console", console or self.hvcon]
        if log is None:
            log = self.hvctl_log
        if log:
            cmd += ["--log", self.path("hvctl.log")]
        cmd += ["--timeout", str(timeout)]
        cmd += list(args)
        try:
            if stdin is None:
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=timeout + 20)
            else:  # interactive hvctl: one request per line of STDIN, overall limit
                p = subprocess.run(cmd, input=stdin.encode(), capture_output=True,
                                   timeout=timeout + 20)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            err = (e.stderr or b"").decode("utf-8", "replace")
            return 124, out, err + f"\n[lab: hvctl killed after {timeout + 20}s]"
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def raw_send(self, data, via="pty"):
        """Send bytes to the monitor console as they are (no framing).

        via="pty": write them to RUNDIR/hvcon directly (raw mode, nothing added);
        via="hvctl": `hvctl --raw-send STR` with every byte written as a \\xNN escape
        (the client's own raw path; it paces the bytes). Returns (status, out, err)."""
        if via == "hvctl":
            esc = "".join(f"\\x{b:02x}" for b in data)
            return self.hvctl("--raw-send", esc, timeout=max(10, len(data) // 200))
        fd = os.open(self.hvcon, os.O_WRONLY | os.O_NOCTTY)
        try:
            try:
                tty.setraw(fd, termios.TCSANOW)
            except termios.error:
                pass
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            try:
                termios.tcdrain(fd)
            except termios.error:
                pass
        finally:
            os.close(fd)
        return 0, "", ""

    def com2_from_bochs(self):
        """Every byte the emulated COM2 UART transmitted so far."""
        return self._read(self.path("com2-from-bochs.raw"))

    def com2_to_bochs(self):
        """Every byte sent to the emulated COM2 UART so far."""
        return self._read(self.path("com2-to-bochs.raw"))

    def hvctl_log_bytes(self):
        return self._read(self.path("hvctl.log"))

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    # ------------------------------------------------------------------ diagnostics
    def diagnose(self, out=sys.stdout):
        """Print the tails of the run's logs."""
        for name, raw, n in (("com1.log", False, 40), ("bochs.log", False, 20),
                             ("bochs.out", False, 8), ("com2-from-bochs.raw", True, 40),
                             ("hvctl.log", True, 20), ("watchdog.log", False, 10)):
            p = self.path(name)
            if not os.path.exists(p):
                continue
            print(f"----- {p} (tail)", file=out)
            print(tail_text(p, n, raw=raw), file=out)
        print("-----", file=out)


class Match:
    """A regex match on a console line, with the line's index and when it was seen."""

    def __init__(self, m, lineno, seen):
        self.m = m
        self.lineno = lineno
        self.seen = seen
        self.line = m.string

    def group(self, *a):
        return self.m.group(*a)

    def kv(self):
        return parse_kv(self.line)

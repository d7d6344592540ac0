#!/usr/bin/env python3
"""The smbcopy benchmark suite: smbcopy beside smbclient and rclone on one
local Samba server, in one run.

Started by bench/run.sh, which installs the packages and builds smbcopy.
Every scenario runs each client RUNS times after one warm-up run, clients
interleaved run by run so that drift of the machine hits them alike. Each run
writes into a fresh directory that is removed after it has been checked
(file count and bytes) and measured. Results: bench/results/suite-<date>.md
and .json.

Measured per run: wall time; client CPU (user + system, the client and every
process it started, from wait4); peak RSS of the client (the largest single
process, from wait4); server CPU (every process of the smbd instance, live
and reaped); the delay proxy's CPU where one is in the path.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """(ppid, utime+stime+cutime+cstime in seconds) of one process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    ppid = int(fields[1])
    ticks = sum(int(x) for x in fields[11:15])
    return ppid, ticks / TICK


def tree_cpu(root_pid):
    """CPU seconds of root_pid and all its descendants, live or reaped.

    A reaped process is counted in its reaper's cutime/cstime, a live one in
    its own utime/stime; summing both over the live tree counts each once."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                stats[int(name)] = st
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


class Sample:
    def __init__(self, wall, user, sys_, rss_kib, server_cpu, proxy_cpu):
        self.wall, self.user, self.sys, self.rss_kib = wall, user, sys_, rss_kib
        self.server_cpu, self.proxy_cpu = server_cpu, proxy_cpu


def measure(argv, *, cwd=None, env=None, server_pid, proxy_pid=None, log):
    """Run argv to completion and measure it; raise on failure."""
    s0 = tree_cpu(server_pid)
    p0 = tree_cpu(proxy_pid) if proxy_pid else 0.0
    with open(log, "ab") as errf:
        errf.write(("$ " + " ".join(argv) + "\n").encode())
        errf.flush()
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    # The server process of that connection exits when the client hangs up;
    # give it a moment to be reaped so its CPU lands in the parent's count.
    time.sleep(0.3)
    s1 = tree_cpu(server_pid)
    p1 = tree_cpu(proxy_pid) if proxy_pid else 0.0
    if proc.returncode != 0:
        raise RuntimeError(f"exit code {proc.returncode}: {' '.join(argv)} (see {log})")
    return Sample(wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, s1 - s0, p1 - p0)


# ---------------------------------------------------------------- datasets

def write_random(path, size, rng):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MIB)
            f.write(rng.randbytes(n))
            left -= n


def make_small_tree(root, dirs, per_dir, size, rng):
    for d in range(dirs):
        sub = root / f"d{d:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(per_dir):
            (sub / f"f{i:04d}.bin").write_bytes(rng.randbytes(size))


def make_mixed_tree(root, rng):
    """About 500 files from 1 KiB to 8 MiB (log-uniform sizes, about 300 MB) in 20 directories."""
    sizes = []
    while len(sizes) < 500:
        sizes.append(int(2 ** rng.uniform(10, 23)))
    scale = 300e6 / sum(sizes)  # aim for about 300 MB in all
    for i, s in enumerate(sizes):
        size = max(1024, min(8 * MIB, int(s * scale)))
        sub = root / f"m{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        write_random(sub / f"file{i:03d}.dat", size, rng)


def archive_totals(path):
    """(regular files, bytes) that a .tar.zst holds, as GNU tar lists them."""
    out = subprocess.run(["tar", "-I", "zstd", "-tvf", str(path)], check=True, capture_output=True, text=True,
                         env=dict(os.environ, LC_ALL="C.UTF-8")).stdout
    files = size = 0
    for line in out.splitlines():
        f = line.split(None, 5)
        if line.startswith("-") and len(f) >= 3 and not line.split()[-1].endswith(".smbcopy-deleted"):
            files += 1
            size += int(f[2])
    return files, size


def tree_totals(root):
    files = size = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            files += 1
            size += os.lstat(os.path.join(dirpath, n)).st_size
    return files, size


# ---------------------------------------------------------------- the suite

class Server:
    """One smbd instance of the fixture, reached directly or through a proxy."""

    def __init__(self, name, env, suffix, label):
        self.name, self.label = name, label
        self.port = int(env["SMBCOPY_TEST_PORT" + suffix])
        self.share = env["SMBCOPY_TEST_SHARE"]
        self.share_dir = Path(env["SMBCOPY_TEST_SHARE_DIR" + suffix])
        inst = {"": "main", "_ENCRYPT": "encrypt"}[suffix]
        self.pid = int((Path(env["SMBCOPY_TEST_FIXTURE_DIR"]) / inst / "smbd.pid").read_text())
        self.connect_port = self.port
        self.proxy_pid = None


class Suite:
    def __init__(self, opts):
        self.o = opts
        self.work = Path(opts.workdir)
        self.results = []
        self.log = self.work / "clients.log"
        self.smbcopy = str(ROOT / "build" / "smbcopy")
        self.fix = self.work / "samba"
        self.env = dict(os.environ)

    # -- set-up
    def start(self):
        subprocess.run([str(ROOT / "tests/fixtures/samba-fixture.sh"), "start", str(self.fix)],
                       check=True, stdout=subprocess.DEVNULL)
        fenv = {}
        for line in (self.fix / "env").read_text().splitlines():
            k, _, v = line.partition("=")
            fenv[k] = v
        self.fenv = fenv
        self.auth = str(self.fix / "smbclient.auth")
        self.servers = {
            "plain": Server("plain", fenv, "", "encryption off (server smb encrypt = if_required; signing as negotiated)"),
            "encrypted": Server("encrypted", fenv, "_ENCRYPT", "encryption required (server smb encrypt = required; AES-128-GCM)"),
        }
        self.env.update(SMB_USERNAME=fenv["SMBCOPY_TEST_USER"], SMB_PASSWORD=fenv["SMBCOPY_TEST_PASSWORD"])
        self.env.pop("SMB_PASSWORD_FILE", None)
        obscured = subprocess.run(["rclone", "obscure", fenv["SMBCOPY_TEST_PASSWORD"]], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.rclone_pass = obscured

    def stop(self):
        for s in getattr(self, "servers", {}).values():
            self.stop_proxy(s)
        subprocess.run([str(ROOT / "tests/fixtures/samba-fixture.sh"), "stop", str(self.fix)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def datasets(self):
        rng = random.Random(20261124)
        main = self.servers["plain"].share_dir
        local = self.work / "local"
        t0 = time.monotonic()
        (main / "big").mkdir(parents=True, exist_ok=True)
        write_random(main / "big" / "big.bin", self.o.big_mib * MIB, rng)
        make_small_tree(main / "small", 100, 100, 4096, rng)
        make_small_tree(main / "small1k", 10, 100, 4096, rng)
        make_mixed_tree(main / "mixed", rng)
        if "memory" in self.o.scenarios:
            make_small_tree(main / "small100k", 1000, 100, 4096, rng)
        # The same bytes for the other server and for uploads: hard links.
        for dest in (self.servers["encrypted"].share_dir, local):
            dest.mkdir(parents=True, exist_ok=True)
            for name in os.listdir(main):
                if not (dest / name).exists():
                    subprocess.run(["cp", "-al", str(main / name), str(dest / name)], check=True)
        self.local = local
        print(f"datasets ready in {time.monotonic() - t0:.1f} s", file=sys.stderr)

    # -- the delay proxy
    def start_proxy(self, server, delay_ms):
        self.stop_proxy(server)
        port = 46000 + (1 if server.name == "encrypted" else 0)
        proc = subprocess.Popen([str(ROOT / "build" / "delay_proxy"), str(port), "127.0.0.1", str(server.port),
                                 str(delay_ms)], stdout=subprocess.PIPE, text=True)
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("delay proxy did not start")
        server.proxy = proc
        server.proxy_pid = proc.pid
        server.connect_port = port

    def stop_proxy(self, server):
        proc = getattr(server, "proxy", None)
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
            server.proxy = None
        server.proxy_pid = None
        server.connect_port = server.port

    # -- clients: each returns (argv, cwd) for one run into a fresh place
    def url(self, s, path):
        return f"smb://127.0.0.1:{s.connect_port}/{s.share}/{path}"

    def smbclient(self, s, commands, cwd=None):
        return ["smbclient", f"//127.0.0.1/{s.share}", "-p", str(s.connect_port), "-A", self.auth,
                "-c", commands], cwd

    def rclone_env(self, s):
        e = dict(self.env)
        e.update(RCLONE_CONFIG_SRV_TYPE="smb", RCLONE_CONFIG_SRV_HOST="127.0.0.1",
                 RCLONE_CONFIG_SRV_PORT=str(s.connect_port), RCLONE_CONFIG_SRV_USER=self.fenv["SMBCOPY_TEST_USER"],
                 RCLONE_CONFIG_SRV_PASS=self.rclone_pass)
        return e

    def variant(self, v):
        """smbcopy with extra settings; a first word bin=PATH runs another build (A/B comparisons)."""
        words = v.split()
        binary = self.smbcopy
        if words and words[0].startswith("bin="):
            binary = words.pop(0)[4:]
        return [binary, "-q", *words]

    def clients(self, kind, what):
        """The clients for a scenario: name -> function(server, src, dst) -> (argv, cwd, env)."""
        c = {}
        variants = self.o.smbcopy_variants
        if kind == "archive":
            # src: a directory of the share; dst: the archive to write.
            c["smbcopy"] = lambda s, src, dst: ([self.smbcopy, "-q", self.url(s, src), dst], None, self.env)
            for v in variants:
                c[f"smbcopy {v}"] = (lambda v: lambda s, src, dst: (
                    [*self.variant(v), self.url(s, src), dst], None, self.env))(v)
            c["smbclient -Tc, zstd -T0"] = lambda s, src, dst: (
                ["bash", "-o", "pipefail", "-c",
                 f"smbclient //127.0.0.1/{s.share} -p {s.connect_port} -A {self.auth} -D {src} -Tc - 2>/dev/null"
                 f" | zstd -T0 -q >{dst}"], None, self.env)
            return c
        if kind == "download":
            c["smbcopy"] = lambda s, src, dst: ([self.smbcopy, "-q", self.url(s, src), dst], None, self.env)
            for v in variants:
                c[f"smbcopy {v}"] = (lambda v: lambda s, src, dst: (
                    [*self.variant(v), self.url(s, src), dst], None, self.env))(v)
            if what == "file":
                c["smbclient get"] = lambda s, src, dst: (*self.smbclient(s, f"get {src} {dst}/big.bin"), self.env)
                c["rclone"] = lambda s, src, dst: (["rclone", "copy", "--multi-thread-streams", "0",
                                                    f"srv:{s.share}/{os.path.dirname(src)}", dst], None, self.rclone_env(s))
            else:
                c["smbclient mget"] = lambda s, src, dst: (
                    *self.smbclient(s, f"prompt off; recurse on; cd {src}; mget *", cwd=dst), self.env)
                for t in (4, 16):
                    c[f"rclone t{t}"] = (lambda t: lambda s, src, dst: (
                        ["rclone", "copy", "--transfers", str(t), f"srv:{s.share}/{src}", dst], None,
                        self.rclone_env(s)))(t)
        else:
            c["smbcopy"] = lambda s, src, dst: ([self.smbcopy, "-q", src, self.url(s, dst)], None, self.env)
            for v in variants:
                c[f"smbcopy {v}"] = (lambda v: lambda s, src, dst: (
                    [*self.variant(v), src, self.url(s, dst)], None, self.env))(v)
            if what == "file":
                c["smbclient put"] = lambda s, src, dst: (
                    *self.smbclient(s, f"mkdir {dst}; put {src}/big.bin {dst}/big.bin"), self.env)
                c["rclone"] = lambda s, src, dst: (["rclone", "copy", "--multi-thread-streams", "0", src,
                                                    f"srv:{s.share}/{dst}"], None, self.rclone_env(s))
            else:
                c["smbclient mput"] = lambda s, src, dst: (
                    *self.smbclient(s, f"mkdir {dst}; cd {dst}; prompt off; recurse on; mput *", cwd=src), self.env)
                for t in (4, 16):
                    c[f"rclone t{t}"] = (lambda t: lambda s, src, dst: (
                        ["rclone", "copy", "--transfers", str(t), src, f"srv:{s.share}/{dst}"], None,
                        self.rclone_env(s)))(t)
        return c

    # -- one scenario
    def scenario(self, sid, title, server, kind, data, what, only=None, delay=None, runs=None):
        runs = runs or self.o.runs
        if delay is not None:
            self.start_proxy(server, delay)
        clients = self.clients(kind, what)
        if self.o.clients:
            clients = {k: v for k, v in clients.items()
                       if k.startswith("smbcopy") or any(k.startswith(p) for p in self.o.clients)}
        if only:
            clients = {k: v for k, v in clients.items() if k in only or k.startswith("smbcopy")}
        src_local = self.local / data
        want = tree_totals(server.share_dir / data)
        samples = {name: [] for name in clients}
        print(f"== {sid} {server.name}: {title}", file=sys.stderr)
        for r in range(runs + 1):
            for name, make in clients.items():
                seq = f"{sid}-{server.name}-{len(self.results)}-{r}-{abs(hash(name)) % 10000}"
                if kind == "archive":
                    dst_dir = Path(tempfile.mkdtemp(prefix="run.", dir=self.work))
                    check = dst_dir / "out.tar.zst"
                    argv, cwd, env = make(server, data, str(check))
                elif kind == "download":
                    dst_dir = Path(tempfile.mkdtemp(prefix="run.", dir=self.work))
                    dst = dst_dir / "out"
                    dst.mkdir()
                    argv, cwd, env = make(server, data if what == "tree" else f"{data}/big.bin", str(dst))
                    check = dst
                else:
                    dst = f"up-{seq}"
                    argv, cwd, env = make(server, str(src_local), dst)
                    check = server.share_dir / dst
                    dst_dir = check
                sample = measure(argv, cwd=cwd, env=env, server_pid=server.pid, proxy_pid=server.proxy_pid,
                                 log=self.log)
                got = archive_totals(check) if kind == "archive" else tree_totals(check)
                shutil.rmtree(dst_dir, ignore_errors=True)
                if got != want:
                    raise RuntimeError(f"{sid} {name}: copied {got[0]} files / {got[1]} bytes, "
                                       f"expected {want[0]} / {want[1]}")
                if r > 0:  # run 0 is the warm-up
                    samples[name].append(sample)
                    print(f"   {name:16s} run {r}: {sample.wall:7.3f} s", file=sys.stderr)
        if delay is not None:
            self.stop_proxy(server)
        self.results.append(dict(id=sid, title=title, server=server.name, server_label=server.label, kind=kind,
                                 files=want[0], bytes=want[1], unit="MB/s" if what == "file" or data == "mixed"
                                 else "files/s", delay_ms=delay, clients=summarise(samples, want)))

    def run(self):
        sel = set(self.o.scenarios)
        for cfg in self.o.configs:
            s = self.servers[cfg]
            if "large" in sel:
                self.scenario("1d", "one 1 GiB file, download", s, "download", "big", "file")
                self.scenario("1u", "one 1 GiB file, upload", s, "upload", "big", "file")
            if "small" in sel:
                self.scenario("2d", "10,000 x 4 KiB in 100 directories, download", s, "download", "small", "tree")
                self.scenario("2u", "10,000 x 4 KiB in 100 directories, upload", s, "upload", "small", "tree")
            if "mixed" in sel:
                self.scenario("3d", "mixed tree, 500 files of 1 KiB to 8 MiB, download", s, "download", "mixed", "tree")
            if "delay" in sel and cfg == "plain":
                self.scenario("4d0", "mixed tree through the delay proxy at 0 ms, download", s, "download", "mixed",
                              "tree", delay=0)
                self.scenario("4d", "mixed tree with 2 ms one-way delay, download", s, "download", "mixed", "tree",
                              delay=2)
                self.scenario("4s", "1,000 x 4 KiB with 2 ms one-way delay, download", s, "download", "small1k",
                              "tree", delay=2)
                self.scenario("4f", "one 1 GiB file with 2 ms one-way delay, download", s, "download", "big", "file",
                              delay=2)
            if "archive" in sel and cfg == "plain":
                self.scenario("7a", "10,000 x 4 KiB in 100 directories into a .tar.zst", s, "archive", "small", "tree",
                              runs=3)
                self.scenario("7b", "one 1 GiB file into a .tar.zst", s, "archive", "big", "file", runs=3)
            if "memory" in sel and cfg == "plain":
                self.scenario("6d", "100,000 x 4 KiB in 1,000 directories, download (memory)", s, "download",
                              "small100k", "tree", only={"smbcopy"})


def summarise(samples, want):
    files, size = want
    out = {}
    for name, ss in samples.items():
        walls = [x.wall for x in ss]
        out[name] = dict(
            runs=len(ss),
            wall=dict(median=statistics.median(walls), min=min(walls), max=max(walls)),
            mbps=dict(median=size / 1e6 / statistics.median(walls), min=size / 1e6 / max(walls),
                      max=size / 1e6 / min(walls)),
            files_per_s=dict(median=files / statistics.median(walls), min=files / max(walls), max=files / min(walls)),
            client_cpu=statistics.median([x.user + x.sys for x in ss]),
            server_cpu=statistics.median([x.server_cpu for x in ss]),
            proxy_cpu=statistics.median([x.proxy_cpu for x in ss]),
            peak_rss_mib=max(x.rss_kib for x in ss) / 1024,
        )
    return out


# ---------------------------------------------------------------- report

def fmt_rate(c, unit):
    v = c["mbps"] if unit == "MB/s" else c["files_per_s"]
    return f"{v['median']:,.0f} ({v['min']:,.0f}-{v['max']:,.0f})"


# The performance targets: (scenario, server, other client, least ratio, what).
TARGETS = [
    *[(sc, srv, "smbclient", 1.3, "large file vs smbclient") for srv in ("plain", "encrypted") for sc in ("1d", "1u")],
    *[(sc, srv, "rclone", 2.5, "large file vs rclone") for srv in ("plain", "encrypted") for sc in ("1d", "1u")],
    *[(sc, srv, "smbclient", 2.5, "10,000 small files vs smbclient") for srv in ("plain", "encrypted") for sc in ("2d", "2u")],
    *[(sc, srv, "rclone t16", 2.0, "10,000 small files vs rclone --transfers 16") for srv in ("plain", "encrypted")
      for sc in ("2d", "2u")],
    ("4s", "plain", "smbclient", 20.0, "small files, 2 ms delay, vs smbclient"),
    ("4s", "plain", "rclone t16", 4.0, "small files, 2 ms delay, vs rclone --transfers 16"),
    ("4f", "plain", "smbclient", 1.3, "large file, 2 ms delay, vs smbclient"),
]


def targets(results):
    """Rows of (what, scenario, measured, goal, met) for the targets the run covers."""
    by = {(r["id"], r["server"]): r for r in results}
    rows = []
    for sc, srv, other, goal, what in TARGETS:
        r = by.get((sc, srv))
        if not r:
            continue
        key = "mbps" if r["unit"] == "MB/s" else "files_per_s"
        name = next((k for k in r["clients"] if k == other or k.startswith(other + " ")), None)
        if not name:
            continue
        ratio = r["clients"]["smbcopy"][key]["median"] / r["clients"][name][key]["median"]
        rows.append((what, f"{sc} {srv}", f"{ratio:.2f}x", f">= {goal}x", ratio >= goal))
    for (sc, srv), r in sorted(by.items()):
        if sc in ("1d", "1u"):
            c = r["clients"]["smbcopy"]
            share = c["server_cpu"] / c["wall"]["median"]
            rows.append(("large file: server CPU / wall", f"{sc} {srv}", f"{100 * share:.0f}%", ">= 85%",
                         share >= 0.85))
    # Archives read ahead by design (--read-ahead, 256 MiB by default): their memory is reported, not held to this.
    rss = [c["peak_rss_mib"] for r in results if r["kind"] != "archive" for k, c in r["clients"].items()
           if k == "smbcopy"]
    if rss:
        rows.append(("peak RSS, default settings, any scenario", "all", f"{max(rss):.0f} MiB", "<= 64 MiB",
                     max(rss) <= 64))
    if ("6d", "plain") in by and ("2d", "plain") in by:
        big = by[("6d", "plain")]["clients"]["smbcopy"]["files_per_s"]["median"]
        small = by[("2d", "plain")]["clients"]["smbcopy"]["files_per_s"]["median"]
        rows.append(("files/s on 100,000 files vs 10,000", "6d/2d plain", f"{100 * big / small:.0f}%", ">= 80%",
                     big / small >= 0.8))
    return rows


def report(results, meta, out_md, out_json):
    lines = [f"# smbcopy benchmark suite, {meta['date']}", "",
             f"{meta['machine']}; {meta['samba']}; {meta['clients']}.", "",
             f"Loopback; data on tmpfs on both sides ({meta['workdir']}), so that the disk does not hide the clients' "
             f"differences. Medians of {meta['runs']} runs after one warm-up, (min-max) beside; every run writes into "
             "a fresh directory. CPU in seconds per run (client: the client and its children; server: every process "
             "of that smbd). Ratio: smbcopy's rate over the other client's.", ""]
    rows = targets(results)
    if rows:
        lines += ["## Targets", "", "| target | scenario | measured | goal | met |", "|---|---|---|---|---|"]
        lines += [f"| {w} | {sc} | {m} | {g} | {'yes' if ok else '**no**'} |" for w, sc, m, g, ok in rows]
        lines.append("")
    by_server = {}
    for r in results:
        by_server.setdefault(r["server_label"], []).append(r)
    for label, rs in by_server.items():
        lines += [f"## {label}", ""]
        for r in rs:
            unit = r["unit"]
            lines += [f"### {r['id']}: {r['title']}", "",
                      f"| client | {unit} (min-max) | wall s | client CPU s | server CPU s | server CPU / wall "
                      f"| peak RSS MiB | smbcopy vs this |" + (" proxy CPU s |" if r["delay_ms"] is not None else ""),
                      "|---|---|---|---|---|---|---|---|" + ("---|" if r["delay_ms"] is not None else "")]
            ours = r["clients"]["smbcopy"]
            key = "mbps" if unit == "MB/s" else "files_per_s"
            for name, c in r["clients"].items():
                ratio = ours[key]["median"] / c[key]["median"]
                lines.append(f"| {name} | {fmt_rate(c, unit)} | {c['wall']['median']:.3f} | {c['client_cpu']:.2f} | "
                             f"{c['server_cpu']:.2f} | {100 * c['server_cpu'] / c['wall']['median']:.0f}% | "
                             f"{c['peak_rss_mib']:.0f} | {ratio:.2f}x |"
                             + (f" {c['proxy_cpu']:.2f} |" if r["delay_ms"] is not None else ""))
            lines.append("")
    Path(out_md).write_text("\n".join(lines) + "\n")
    Path(out_json).write_text(json.dumps(dict(meta=meta, results=results), indent=1) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", 5)))
    ap.add_argument("--configs", default=os.environ.get("CONFIGS", "plain,encrypted"))
    ap.add_argument("--scenarios", default=os.environ.get("SCENARIOS", "large,small,mixed,delay,memory,archive"))
    ap.add_argument("--smbcopy-variants", default=os.environ.get("SMBCOPY_VARIANTS", ""),
                    help="extra smbcopy settings to run beside the defaults, comma-separated, "
                         "e.g. '--connections 2,--threads 16'")
    ap.add_argument("--clients", default=os.environ.get("CLIENTS", ""),
                    help="only these other clients (comma-separated name prefixes, e.g. smbclient); "
                         "default all, 'none' for smbcopy alone")
    ap.add_argument("--big-mib", type=int, default=int(os.environ.get("BIG_MIB", 1024)))
    ap.add_argument("--workdir", default=os.environ.get("BENCH_DIR", ""))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--report-only", metavar="JSON", help="rewrite the Markdown of an earlier run's JSON and exit")
    o = ap.parse_args()
    if o.report_only:
        d = json.loads(Path(o.report_only).read_text())
        report(d["results"], d["meta"], str(Path(o.report_only).with_suffix(".md")), o.report_only)
        return
    o.configs = [x for x in o.configs.split(",") if x]
    o.scenarios = [x for x in o.scenarios.split(",") if x]
    o.smbcopy_variants = [x.strip() for x in o.smbcopy_variants.split(",") if x.strip()]
    o.clients = [x.strip() for x in o.clients.split(",") if x.strip()]
    if not o.workdir:
        o.workdir = tempfile.mkdtemp(prefix="smbcopy-bench.", dir="/dev/shm")
    Path(o.workdir).mkdir(parents=True, exist_ok=True)
    suite = Suite(o)
    try:
        suite.start()
        suite.datasets()
        suite.run()
    finally:
        suite.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(o.workdir, ignore_errors=True)
    date = datetime.datetime.now(datetime.timezone.utc)
    smbd = subprocess.run(["smbd", "--version"], capture_output=True, text=True).stdout.strip()
    ver = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    meta = dict(date=date.strftime("%Y-%m-%d %H:%M UTC"), runs=o.runs, workdir="/dev/shm" if
                o.workdir.startswith("/dev/shm") else o.workdir,
                machine=f"{os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB, "
                        f"Linux {platform.release()}",
                samba=smbd, clients=f"{ver([suite.smbcopy, '--version'])}, {ver(['smbclient', '--version'])}, "
                                    f"{ver(['rclone', 'version'])}")
    Path(o.out).mkdir(parents=True, exist_ok=True)
    stem = Path(o.out) / f"suite-{date.strftime('%Y-%m-%d')}"
    report(suite.results, meta, f"{stem}.md", f"{stem}.json")
    print(f"results: {stem}.md, {stem}.json", file=sys.stderr)


if __name__ == "__main__":
    main()

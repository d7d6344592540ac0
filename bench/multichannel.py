#!/usr/bin/env python3
"""Multichannel against independent sessions, on one Samba in one run.

Started by bench/multichannel.sh (root), which builds smbcopy and starts the
multichannel fixture: a Samba in a private network namespace with two
loopback addresses and "server multi channel support = yes". Every
configuration downloads and uploads one 1 GiB file on the share that
requires encryption (AES-128-GCM), RUNS times after a warm-up, the
configurations interleaved run by run:

  --connections 1 --channels 1|2|4   one session, 1, 2 or 4 channels
  --connections 1|2|4 --channels 1   1, 2 or 4 independent sessions

Measured per run: wall time, client CPU (user + system, from wait4) and
server CPU (every process in the namespace, from /proc). Medians with
min-max. Results: bench/results/multichannel-<date>.md.
"""

import datetime
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
SIZE = 1 << 30


def netns_cpu(ns):
    """CPU seconds of every process in the namespace (live, with reaped children)."""
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in out:
        try:
            with open(f"/proc/{pid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15]) / TICK
    return total


def run(ns, cli, auth, args):
    """One smbcopy run in the namespace: (wall s, client cpu s, server cpu s)."""
    before = netns_cpu(ns)
    t0 = os.times()
    start = datetime.datetime.now().timestamp()
    proc = subprocess.Popen(["ip", "netns", "exec", ns, cli, "-A", auth, "-q", "--no-progress"] + args,
                            stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = datetime.datetime.now().timestamp() - start
    if status != 0:
        sys.exit(f"smbcopy {' '.join(args)} failed with status {status}")
    return wall, ru.ru_utime + ru.ru_stime, netns_cpu(ns) - before


def main():
    env = dict(l.strip().split("=", 1) for l in open(os.environ["SMBCOPY_MC_ENV"]) if "=" in l)
    ns = env["SMBCOPY_MC_NETNS"]
    cli = os.environ["SMBCOPY_CLI"]
    auth = os.environ["SMBCOPY_MC_AUTH"]
    runs = int(os.environ.get("RUNS", "5"))
    secret = Path(env["SMBCOPY_MC_SECRET_DIR"])
    work = Path(os.environ.get("BENCH_DIR", "/dev/shm/smbcopy-mc-bench"))
    shutil.rmtree(work, ignore_errors=True)
    (work / "up").mkdir(parents=True)
    (secret / "down").mkdir(exist_ok=True)
    with open(secret / "down" / "big.bin", "wb") as f:
        f.write(os.urandom(SIZE))
    shutil.copy(secret / "down" / "big.bin", work / "up" / "big.bin")
    configs = [("1 session, 1 channel", 1, 1), ("1 session, 2 channels", 1, 2), ("1 session, 4 channels", 1, 4),
               ("2 sessions, 1 channel each", 2, 1), ("4 sessions, 1 channel each", 4, 1)]
    results = {}
    for r in range(runs + 1):
        for name, conns, chans in configs:
            for direction in ("download", "upload"):
                opts = ["--connections", str(conns), "--channels", str(chans)]
                if direction == "download":
                    dest = work / f"down-{r}"
                    m = run(ns, cli, auth, opts + ["//127.0.0.1/secret/down", str(dest)])
                    if (dest / "big.bin").stat().st_size != SIZE:
                        sys.exit("download incomplete")
                    shutil.rmtree(dest)
                else:
                    target = f"up-{r}-{conns}-{chans}"
                    m = run(ns, cli, auth, opts + [str(work / "up"), f"//127.0.0.1/secret/{target}"])
                    if (secret / target / "big.bin").stat().st_size != SIZE:
                        sys.exit("upload incomplete")
                    shutil.rmtree(secret / target)
                if r > 0:  # the first round warms up
                    results.setdefault((name, direction), []).append(m)
                print(f"  {name:28} {direction:8} run {r}: {m[0]:.3f} s", flush=True)
    date = datetime.date.today().isoformat()
    out = ROOT / "bench" / "results" / f"multichannel-{date}.md"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [f"# Multichannel and independent sessions, {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC", "",
             f"{os.cpu_count()} cores ({cpu}); "
             f"{subprocess.run(['smbd', '--version'], capture_output=True, text=True).stdout.strip()}; "
             "one 1 GiB file on a share that requires encryption (AES-128-GCM, SMB 3.1.1), over the loopback "
             "of a network namespace holding 127.0.0.1 and 127.0.0.2 (both listed by the server as RSS, "
             "10 Gb/s); local side on tmpfs.", "",
             f"Medians of {runs} runs after a warm-up (min-max); CPU in seconds per run.", ""]
    for direction in ("download", "upload"):
        lines += [f"## {direction}", "", "| configuration | MB/s (min-max) | wall s | client CPU s | server CPU s |",
                  "|---|---|---|---|---|"]
        for name, _, _ in configs:
            ms = results[(name, direction)]
            rates = [SIZE / 1e6 / m[0] for m in ms]
            lines.append(f"| {name} | {statistics.median(rates):,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | "
                         f"{statistics.median(m[0] for m in ms):.3f} | {statistics.median(m[1] for m in ms):.2f} | "
                         f"{statistics.median(m[2] for m in ms):.2f} |")
        lines.append("")
    out.write_text("\n".join(lines))
    print(f"results: {out}")
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(secret / "down", ignore_errors=True)


if __name__ == "__main__":
    main()

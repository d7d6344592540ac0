#!/usr/bin/env python3
"""What named streams and security descriptors cost smbcopy (bench/fidelity.sh runs this).

A tree of FILES files of 4 KiB in 100 directories, each with a security
descriptor (a DACL of two ACEs) and one in STREAM_EVERY with a 100-byte named
stream, is uploaded once with --acls onto the fixture's "fidelity" share
(acl_xattr, streams_xattr). Then each direction (download, upload, share to
share on the one server) runs with --no-streams (data only), the default
(streams) and --acls (streams and descriptors), RUNS times interleaved, each
into a fresh directory; the table gives the median wall time and the ratio
to the data-only copy. Every run is checked: exit 0, every file copied, and
the streams and descriptors counted in the JSON summary.
"""
import datetime
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time


def sid(text):
    """A SID (MS-DTYP 2.4.2.2) from S-1-A-S1-S2...."""
    parts = text.split("-")
    auth, subs = int(parts[2]), [int(p) for p in parts[3:]]
    return struct.pack("<BB", 1, len(subs)) + auth.to_bytes(6, "big") + b"".join(struct.pack("<I", s) for s in subs)


def security_descriptor():
    """Self-relative SD (MS-DTYP 2.4.6) with only a DACL: Everyone and Unix User\\root, full control."""
    aces = b""
    for who in ("S-1-1-0", "S-1-22-1-0"):
        body = struct.pack("<I", 0x001F01FF) + sid(who)
        aces += struct.pack("<BBH", 0, 0, 4 + len(body)) + body
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(aces), 2, 0) + aces
    return struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + acl


def load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    return env


def make_tree(root, files, stream_every):
    sd = security_descriptor()
    block = os.urandom(4096)
    for i in range(files):
        d = os.path.join(root, f"d{i % 100:03d}")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{i:06d}.bin")
        with open(p, "wb") as f:
            f.write(block[:8] + i.to_bytes(8, "little") + block[16:])
        os.setxattr(p, "user.smbcopy.ntsd", sd)
        if i % stream_every == 0:
            os.setxattr(p, "user.DosStream.note:$DATA", os.urandom(100) + b"\0")


def smbcopy(cli, auth, args):
    t0 = time.monotonic()
    p = subprocess.run([cli, "-A", auth, "--no-progress", "--json"] + args, capture_output=True, text=True)
    wall = time.monotonic() - t0
    try:
        summary = json.loads(p.stdout)
    except ValueError:
        summary = {}
    if p.returncode != 0:
        sys.exit(f"fidelity.py: smbcopy {' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-400:]}")
    return wall, summary


def main():
    runs = int(os.environ.get("RUNS", "3"))
    files = int(os.environ.get("FILES", "10000"))
    stream_every = int(os.environ.get("STREAM_EVERY", "10"))
    env_path = os.environ["SMBCOPY_TEST_ENV"]
    env = load_env(env_path)
    cli = os.environ["SMBCOPY_CLI"]
    auth = os.path.join(os.path.dirname(env_path), "smbclient.auth")
    url = f"smb://{env['SMBCOPY_TEST_HOST']}:{env['SMBCOPY_TEST_PORT']}/{env['SMBCOPY_TEST_FIDELITY_SHARE']}"
    work = tempfile.mkdtemp(prefix="smbcopy-fidelity-", dir="/dev/shm")
    streams_expected = (files + stream_every - 1) // stream_every
    try:
        src = os.path.join(work, "src")
        make_tree(src, files, stream_every)
        _, s = smbcopy(cli, auth, ["--acls", src + "/", f"{url}/bench-src/"])
        if s.get("files_copied") != files or s.get("sds_copied") != files:
            sys.exit(f"fidelity.py: seeding the share copied {s.get('files_copied')} files, {s.get('sds_copied')} descriptors")
        variants = [("data only (--no-streams)", ["--no-streams"]), ("streams (default)", []),
                    ("streams + --acls", ["--acls"])]
        directions = [("download", lambda n: (f"{url}/bench-src/", os.path.join(work, n) + "/")),
                      ("upload", lambda n: (src + "/", f"{url}/{n}/")),
                      ("share to share", lambda n: (f"{url}/bench-src/", f"{url}/{n}/"))]
        times = {}
        serial = 0
        for run in range(runs + 1):  # run 0 warms up
            for dname, where in directions:
                for vname, args in variants:
                    serial += 1
                    a, b = where(f"out{serial}")
                    wall, s = smbcopy(cli, auth, args + [a, b])
                    want_streams = 0 if "--no-streams" in args else streams_expected
                    # With --acls the directories' descriptors come too, where the source has them.
                    sds = s.get("sds_copied", -1)
                    sds_ok = sds in (files, files + 101) if "--acls" in args else sds == 0
                    want_sds = f"{files} or {files + 101}" if "--acls" in args else 0
                    if (s.get("files_copied"), s.get("streams_copied")) != (files, want_streams) or not sds_ok:
                        sys.exit(f"fidelity.py: {dname} {vname}: copied {s.get('files_copied')} files, "
                                 f"{s.get('streams_copied')} streams, {s.get('sds_copied')} descriptors; "
                                 f"expected {files}, {want_streams}, {want_sds}")
                    if run:
                        times.setdefault((dname, vname), []).append(wall)
        lines = [f"# Named streams and security descriptors: what they cost ({datetime.date.today()})", "",
                 f"{files} files of 4 KiB in 100 directories, each with a DACL, one in {stream_every} with a "
                 f"100-byte stream; Samba 4.17 `vfs objects = acl_xattr streams_xattr xattr_tdb` on tmpfs, "
                 f"loopback, 2 cores. Median of {runs} runs (min-max), seconds; ratio to the data-only copy.", "",
                 "| direction | copy | seconds | files/s | ratio |", "|---|---|---|---|---|"]
        for dname, _ in directions:
            base = statistics.median(times[(dname, variants[0][0])])
            for vname, _ in variants:
                ts = times[(dname, vname)]
                med = statistics.median(ts)
                lines.append(f"| {dname} | {vname} | {med:.2f} ({min(ts):.2f}-{max(ts):.2f}) | "
                             f"{files / med:,.0f} | {med / base:.2f}x |")
        text = "\n".join(lines) + "\n"
        print(text)
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"fidelity-{datetime.date.today()}.md")
        with open(out, "w") as f:
            f.write(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Process-tree sampling for bench/overhead.sh and bench/soak.sh (Linux /proc only).

  proctree.py sample --duration S [--interval 1] [--threads NAME] NAME=PID...
      For each NAME: the process PID and all its descendants (found again at every sample, so
      plugins that a monitor starts or restarts are counted). Prints one line per NAME:
        TREE name=N procs=P cpu_pct=C sys_pct=S rss_mean_kb=.. rss_max_kb=.. pss_mean_kb=..
             anon_mean_kb=.. samples=K seconds=T
      cpu_pct: % of one core over the window, from the sum over the tree of utime + stime +
      cutime + cstime (/proc/PID/stat) at the end minus the same sum at the start: a child that
      exits and is reaped inside the tree moves its time into its parent's c-times, so it is
      neither lost nor counted twice (a process reparented out of the tree is lost).
      rss: sum of VmRSS over the tree, every --interval s (mean and max); pss: sum of Pss from
      /proc/PID/smaps_rollup (shared pages split between the processes that map them);
      anon: sum of RssAnon.
      --threads NAME also prints the CPU of that NAME's process per thread name (% of a core):
        THREADS name=N comm=C ...

  proctree.py smaps PID
      RSS and PSS of one process by mapping (/proc/PID/smaps): anonymous memory (heap, anonymous
      mappings, stacks) and each file, largest first.
"""
import os
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def stat_fields(pid):
    s = read(f"/proc/{pid}/stat")
    if s is None:
        return None
    # fields after the comm: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime
    return s[s.rfind(")") + 2:].split()


def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        f = stat_fields(entry)
        if f is None:
            continue
        kids.setdefault(int(f[1]), []).append(int(entry))
    return kids


def tree(root, kids):
    out, pending = [], [root]
    while pending:
        pid = pending.pop()
        out.append(pid)
        pending.extend(kids.get(pid, []))
    return out


def cpu_ticks(pids):
    total = system = 0
    for pid in pids:
        f = stat_fields(pid)
        if f is None:
            continue
        utime, stime, cutime, cstime = (int(x) for x in f[11:15])
        total += utime + stime + cutime + cstime
        system += stime + cstime
    return total, system


def status_kb(pid, keys):
    s = read(f"/proc/{pid}/status")
    out = dict.fromkeys(keys, 0)
    if s:
        for line in s.splitlines():
            k, _, v = line.partition(":")
            if k in out:
                out[k] = int(v.split()[0])
    return out


def pss_kb(pid):
    s = read(f"/proc/{pid}/smaps_rollup")
    if s:
        for line in s.splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def thread_ticks(pid):
    """utime + stime per thread name of one process."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        s = read(f"/proc/{pid}/task/{tid}/stat")
        if s is None:
            continue
        comm = s[s.find("(") + 1:s.rfind(")")]
        f = s[s.rfind(")") + 2:].split()
        out[(comm, tid)] = int(f[11]) + int(f[12])
    return out


def sample(argv):
    duration, interval, targets, by_thread = 60.0, 1.0, [], None
    i = 0
    while i < len(argv):
        if argv[i] == "--duration":
            duration = float(argv[i + 1]); i += 2
        elif argv[i] == "--interval":
            interval = float(argv[i + 1]); i += 2
        elif argv[i] == "--threads":
            by_thread = argv[i + 1]; i += 2
        else:
            name, _, pid = argv[i].partition("=")
            targets.append((name, int(pid))); i += 1
    kids = children_map()
    t0 = time.monotonic()
    start = {n: cpu_ticks(tree(p, kids)) for n, p in targets}
    thread_pid = dict(targets).get(by_thread)
    threads0 = thread_ticks(thread_pid) if thread_pid else {}
    acc = {n: {"rss": [], "pss": [], "anon": [], "procs": 0} for n, _ in targets}
    k = 0
    while True:
        k += 1
        due = t0 + k * interval
        if due > t0 + duration + 1e-6:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        kids = children_map()
        for n, p in targets:
            pids = tree(p, kids)
            rss = anon = pss = 0
            for pid in pids:
                st = status_kb(pid, ("VmRSS", "RssAnon"))
                rss += st["VmRSS"]
                anon += st["RssAnon"]
                pss += pss_kb(pid)
            a = acc[n]
            a["rss"].append(rss); a["pss"].append(pss); a["anon"].append(anon)
            a["procs"] = max(a["procs"], len(pids))
    kids = children_map()
    elapsed = time.monotonic() - t0
    if thread_pid:
        by_name = {}
        for (comm, tid), ticks in thread_ticks(thread_pid).items():
            by_name[comm] = by_name.get(comm, 0) + ticks - threads0.get((comm, tid), 0)
        print(f"THREADS name={by_thread} " + " ".join(
            f"{comm.replace(' ', '_')}={100.0 * t / CLK / elapsed:.3f}"
            for comm, t in sorted(by_name.items(), key=lambda kv: -kv[1]) if t > 0), flush=True)
    for n, p in targets:
        end = cpu_ticks(tree(p, kids))
        a = acc[n]
        mean = lambda xs: sum(xs) / len(xs) if xs else 0
        print(f"TREE name={n} procs={a['procs']} "
              f"cpu_pct={100.0 * (end[0] - start[n][0]) / CLK / elapsed:.3f} "
              f"sys_pct={100.0 * (end[1] - start[n][1]) / CLK / elapsed:.3f} "
              f"rss_mean_kb={mean(a['rss']):.0f} rss_max_kb={max(a['rss'], default=0)} "
              f"pss_mean_kb={mean(a['pss']):.0f} anon_mean_kb={mean(a['anon']):.0f} "
              f"samples={len(a['rss'])} seconds={elapsed:.1f}", flush=True)


def smaps(pid):
    text = read(f"/proc/{pid}/smaps")
    if text is None:
        sys.exit(f"no /proc/{pid}/smaps")
    by = {}
    name = None
    for line in text.splitlines():
        head = line.split(None, 5)
        if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            path = head[5].strip() if len(head) > 5 else ""
            if path == "[heap]":
                name = "[heap] (brk heap of the main arena)"
            elif path == "":
                name = "[anonymous mappings] (thread stacks, malloc arenas of other threads, mmap'd blocks)"
            elif path.startswith("[stack"):
                name = "[stacks]"
            elif path.startswith("["):
                name = path
            else:
                name = path
            by.setdefault(name, [0, 0, 0])
        elif line.startswith("Rss:"):
            by[name][0] += int(line.split()[1])
        elif line.startswith("Pss:"):
            by[name][1] += int(line.split()[1])
        elif line.startswith("Private_Dirty:") or line.startswith("Private_Clean:"):
            by[name][2] += int(line.split()[1])
    rows = sorted(by.items(), key=lambda kv: -kv[1][0])
    total = [sum(v[i] for v in by.values()) for i in range(3)]
    print(f"{'RSS KB':>8} {'PSS KB':>8} {'private':>8}  mapping")
    for n, (rss, pss, priv) in rows:
        if rss == 0:
            continue
        print(f"{rss:>8} {pss:>8} {priv:>8}  {n}")
    print(f"{total[0]:>8} {total[1]:>8} {total[2]:>8}  total")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "sample":
        sample(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "smaps":
        smaps(int(sys.argv[2]))
    else:
        sys.exit(__doc__)

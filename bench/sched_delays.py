"""Why a process's threads waited for a CPU: python3 bench/sched_delays.py PERF_DATA ROUND VARIANT NAME=PID...

`python3 bench/sched_delays.py --header` prints the header of its lines. Reads a `perf sched record`
file through `perf sched timehist` (one line per time a thread ran: when it stopped, on which CPU,
how long it had waited to be woken, how long it then waited to run -- the scheduling delay -- and how
long it ran) and prints, per named process, one tab-separated line: round, variant, name, how often
one of its threads waited more than 1 ms to run after being woken, the sum and the longest of those
waits, and the summed wait by what held the CPU the thread then ran on during the wait:
- idle: nothing ran there. In a virtual machine, a halted virtual CPU the host had not yet run again
  (the wake-up is an interrupt the host delivers when it schedules that CPU);
- own: another thread of the same process (a collector's, the JIT's, a second event loop);
- other: a thread of another process named on the command line (the load generator, the server);
- kernel: anything else (kernel threads such as kdamond, the host's memory monitor in this VM, or
  other processes).
Only the standard library: it runs with the machine's python3 (bench/gc.sh, GC_SCHED=1).
"""
import bisect
import collections
import re
import subprocess
import sys

THRESHOLD_MS = 1.0
HEADER = ("round\tvariant\tprocess\twaits_over_1ms\twaited_ms\tlongest_ms\tcpu_idle_ms\tsame_process_ms"
          "\tother_process_ms\tkernel_ms")
LINE = re.compile(r"^\s*(\d+\.\d+)\s+\[(\d+)\]\s+(<idle>|.*?\[(\d+)(?:/(\d+))?\])\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def runs_of(perf_data):
    """(start, end, cpu, pid, delay_s) per run; the idle task is pid 0."""
    timehist = subprocess.run(["perf", "sched", "timehist", "-i", perf_data], capture_output=True, text=True,
                              errors="replace", check=True).stdout
    runs = []
    for line in timehist.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        end = float(m.group(1))
        tid = int(m.group(4) or 0)
        pid = int(m.group(5) or tid)
        run = float(m.group(8)) / 1000
        runs.append((end - run, end, int(m.group(2)), pid, float(m.group(7)) / 1000))
    runs.sort()
    return runs


def main(path, rnd, variant, named):
    runs = runs_of(path)
    starts = [r[0] for r in runs]
    longest_run = max((r[1] - r[0] for r in runs), default=0)
    for name, pid in named.items():
        waits, total, longest = 0, 0.0, 0.0
        held = collections.Counter()
        for start, _, cpu, owner, delay in runs:
            if owner != pid or delay * 1000 <= THRESHOLD_MS:
                continue
            waits += 1
            total += delay
            longest = max(longest, delay)
            w0, w1 = start - delay, start
            seen = 0.0
            # Runs that overlap the wait on the CPU the thread then got.
            for s, e, c, p, _ in runs[bisect.bisect_left(starts, w0 - longest_run):]:
                if s >= w1:
                    break
                overlap = min(e, w1) - max(s, w0)
                if c != cpu or overlap <= 0:
                    continue
                if p == 0:
                    kind = "idle"
                elif p == pid:
                    kind = "own"
                elif p in named.values():
                    kind = "other"
                else:
                    kind = "kernel"
                held[kind] += overlap
                seen += overlap
            # Not a run on that CPU: the host had the virtual CPU and the guest saw nothing.
            held["idle"] += max(delay - seen, 0)
        print("\t".join([rnd, variant, name, str(waits), "%.1f" % (total * 1000), "%.2f" % (longest * 1000)]
                        + ["%.1f" % (held[k] * 1000) for k in ("idle", "own", "other", "kernel")]))


if __name__ == "__main__":
    if sys.argv[1:] == ["--header"]:
        print(HEADER)
        sys.exit(0)
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3],
         {a.split("=", 1)[0]: int(a.split("=", 1)[1]) for a in sys.argv[4:]})

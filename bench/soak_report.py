"""Judges and draws a soak run of bench/soak.sh: python3 bench/soak_report.py RESULTS_DIR WARMUP_MINUTES.

Writes RESULTS_DIR/summary.md and RESULTS_DIR/soak.svg and exits 1 if the run failed. A run passes when
every load generator's requests were all answered with success (each waits its --timeout for every
answer, so an unanswered request is an error too), the inference port wrote no error response (warm-ups
included), every swap and management call succeeded, and each
resource is flat after the warm-up: its median over the last third of the measured window is within
10% of its median over the first third, and its largest sample within 10% above the first third's
largest (so neither the level nor the peaks creep up), or within a small absolute slack for a
quantity that moves in coarse steps (direct buffers: Netty takes and returns memory 512 KiB at a time,
so at 3 MiB one step is +17% and a level that flips between two steps is not growth). Heap is judged
the same way although it is a sawtooth by nature: the medians and peaks of a sawtooth that does not
grow stay put.
Only the standard library: it runs with the machine's python3.
"""
import csv
import glob
import json
import os
import statistics
import sys

TOLERANCE = 0.10
SERIES = [  # column, title, unit divisor, unit
    ("rss_bytes", "RSS", 1 << 20, "MiB"),
    ("heap_bytes", "Java heap used", 1 << 20, "MiB"),
    ("heap_committed_bytes", "Java heap committed", 1 << 20, "MiB"),
    ("direct_bytes", "Direct buffers", 1 << 20, "MiB"),
    ("threads", "Threads", 1, ""),
    ("fds", "File descriptors", 1, ""),
]
# Growth within this many units (bytes, threads, descriptors) is a step, not a trend (see above).
SLACK = {"direct_bytes": 1 << 20}


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_results(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "load-*.json"))):
        name = os.path.basename(path)[len("load-"):-len(".json")]
        r = json.load(open(path))["results"][0]
        rows.append((name, r))
    return rows


def http_responses(out, name):
    """torchlight_http_responses_total by status code in one metrics scrape."""
    codes = {}
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return codes
    for line in open(path):
        if line.startswith("torchlight_http_responses_total{"):
            labels, value = line.rsplit(" ", 1)
            code = labels.split('code="', 1)[1].split('"', 1)[0]
            codes[code] = codes.get(code, 0) + int(float(value))
    return codes


def flatness(samples, column, warmup_s):
    points = [(int(s["seconds"]), float(s[column])) for s in samples if s[column]]
    measured = [v for t, v in points if t >= warmup_s]
    if len(measured) < 6:
        return None
    third = len(measured) // 3
    first, last = measured[:third], measured[-third:]
    level = statistics.median(last) / statistics.median(first) - 1
    peak = max(last) / max(first) - 1
    return {"first_median": statistics.median(first), "last_median": statistics.median(last),
            "first_max": max(first), "last_max": max(last), "level": level, "peak": peak,
            "flat": within(statistics.median(last), statistics.median(first), column)
                    and within(max(last), max(first), column)}


def within(later, earlier, column):
    """later is at most TOLERANCE above earlier, or at most the column's SLACK above it."""
    return later <= earlier * (1 + TOLERANCE) or later - earlier <= SLACK.get(column, 0)


def svg(samples, swaps, warmup_s, path):
    """Small multiples, one panel per resource, minutes on x; swaps as ticks, the warm-up shaded."""
    width, panel, left, gap = 760, 120, 70, 30
    height = len(SERIES) * (panel + gap) + 30
    end = max(int(s["seconds"]) for s in samples) or 1
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
             'font-size="11">' % (width, height), '<rect width="100%" height="100%" fill="white"/>']
    plot_w = width - left - 20
    x = lambda t: left + plot_w * t / end
    for i, (column, title, div, unit) in enumerate(SERIES):
        top = 20 + i * (panel + gap)
        values = [(int(s["seconds"]), float(s[column]) / div) for s in samples if s[column]]
        if not values:
            continue
        hi = max(v for _, v in values) * 1.1 or 1
        y = lambda v: top + panel - panel * v / hi
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#eee"/>'
                     % (left, top, x(min(warmup_s, end)) - left, panel))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>'
                     % (left, top, plot_w, panel))
        for t in swaps:
            parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#c9d" stroke-width="0.5"/>'
                         % (x(t), x(t), top + panel - 6, top + panel))
        parts.append('<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="%s"/>'
                     % " ".join("%.1f,%.1f" % (x(t), y(v)) for t, v in values))
        parts.append('<text x="%d" y="%d" font-weight="bold">%s%s</text>'
                     % (left, top - 5, title, " (%s)" % unit if unit else ""))
        for frac in (0, 0.5, 1):
            v = hi * frac
            parts.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                         % (left - 5, y(v) + 4, ("%.0f" % v) if hi >= 10 else ("%.1f" % v)))
    bottom = height - 8
    for m in range(0, end // 60 + 1, max(1, end // 600)):
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x(m * 60), bottom, m))
    parts.append('<text x="%d" y="%d" text-anchor="end">minutes</text>' % (left - 5, bottom))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main(out, warmup_minutes):
    warmup_s = int(float(warmup_minutes) * 60)
    samples = read_tsv(os.path.join(out, "samples.tsv"))
    swaps = read_tsv(os.path.join(out, "swaps.tsv"))
    calls = read_tsv(os.path.join(out, "management.tsv"))
    loads = load_results(out)
    failures = []
    lines = ["# Soak: %d minutes (%d s warm-up)" % (int(samples[-1]["seconds"]) // 60, warmup_s), "",
             "| load | rate/s | requests | errors | p50 ms | p99 ms | p99.9 ms | max ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    sent = 0
    sent_http = 0
    for name, r in loads:
        sent += r["requests"]
        sent_http += 0 if name.startswith("grpc") else r["requests"]
        lines.append("| %s | %s | %d | %d | %.2f | %.2f | %.2f | %.1f |" % (
            name, r.get("rate"), r["requests"], r["errors"], r["p50_ms"], r["p99_ms"], r["p999_ms"], r["max_ms"]))
        if r["errors"]:
            failures.append("%s: %d failed requests %s" % (name, r["errors"], r.get("errors_by_kind")))
    if len(loads) < 6:
        failures.append("only %d of 6 load generators wrote results" % len(loads))
    start, end = http_responses(out, "metrics-start.txt"), http_responses(out, "metrics-end.txt")
    written = {code: n - start.get(code, 0) for code, n in end.items() if n - start.get(code, 0)}
    lines += ["", "Requests the load generators sent in their measured windows: %d (HTTP %d). Responses the"
              " inference port wrote during the whole run, warm-ups included, by status: %s." % (
                  sent, sent_http, ", ".join("%s: %d" % kv for kv in sorted(written.items())) or "n/a")]
    refused = {code: n for code, n in written.items() if not code.startswith("2")}
    if refused:
        failures.append("the inference port refused requests: %s" % refused)
    bad_swaps = [s for s in swaps if s["status"] != "200"]
    bad_calls = [c for c in calls if c["status"] != "200"]
    lines.append("Swaps: %d (%d failed); management and statistics calls: %d (%d failed)"
                 % (len(swaps), len(bad_swaps), len(calls), len(bad_calls)))
    if bad_swaps:
        failures.append("%d swaps failed" % len(bad_swaps))
    if bad_calls:
        failures.append("%d management calls failed: %s" % (len(bad_calls), bad_calls[:3]))
    lines += ["", "| resource | first third (median / max) | last third (median / max) | level | peak | flat |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    for column, title, div, unit in SERIES:
        f = flatness(samples, column, warmup_s)
        if f is None:
            failures.append("too few samples after the warm-up for " + title)
            continue
        fmt = (lambda v: "%.1f %s" % (v / div, unit)) if unit else (lambda v: "%.0f" % v)
        lines.append("| %s | %s / %s | %s / %s | %+.1f%% | %+.1f%% | %s |" % (
            title, fmt(f["first_median"]), fmt(f["first_max"]), fmt(f["last_median"]), fmt(f["last_max"]),
            100 * f["level"], 100 * f["peak"], "yes" if f["flat"] else "**no**"))
        if not f["flat"]:
            failures.append("%s grew: level %+.1f%%, peak %+.1f%%" % (title, 100 * f["level"], 100 * f["peak"]))
    lines += ["", "Result: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures))]
    svg(samples, [int(s["seconds"]) for s in swaps], warmup_s, os.path.join(out, "soak.svg"))
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

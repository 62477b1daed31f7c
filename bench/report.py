#!/usr/bin/env python3
"""Turn what bench/run.sh measured (WORK/facts and the JSON files next to it) into the
benchmark table, in Markdown, on standard output. Python 3 standard library only.

    python3 bench/report.py WORK
"""

import glob
import json
import math
import os
import re
import statistics
import sys

RPS = 20
SLOW_RATE = 10
LATENCY_S = 0.050
BURST = 5
TIMED_OUT = (124, 137)  # timeout(1): stopped at the deadline, or killed after it


def load(work, name):
    try:
        with open(os.path.join(work, name), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def facts_of(work):
    out = {}
    with open(os.path.join(work, "facts"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            out[key] = value
    return out


def secs(ns):
    return int(ns) / 1e9


def verdict(ok):
    return "PASS" if ok else "MISS"


def minimum_requests(out_dir, max_texts, max_chars):
    """Distinct texts a run must send, per source language, from its JSONL outputs,
    and the fewest requests the batch limits allow for them."""
    units = {}
    for path in glob.glob(os.path.join(out_dir, "**", "*.jsonl"), recursive=True):
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if {"not_sent", "same_language"} & set(row["flags"]):
                    continue
                units[(row["src_lang"], row["source"])] = len(row["source"])
    by_lang = {}
    for (lang, _), chars in units.items():
        texts, total = by_lang.get(lang, (0, 0))
        by_lang[lang] = (texts + 1, total + chars)
    minimum = sum(max(math.ceil(t / max_texts), math.ceil(c / max_chars))
                  for t, c in by_lang.values())
    return minimum, len(units), by_lang


def client_rate_lines(path):
    """What the client said about the rate that worked."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    # The summary line: "the server rate-limited 20 requests/s; 9.70 requests/s worked".
    pattern = re.compile(r"\bworked\b|rate-limited", re.IGNORECASE)
    return [l.strip() for l in lines if pattern.search(l)]


def time_v(work, name):
    """The fields of a `/usr/bin/time -v` report, if there is one."""
    try:
        with open(os.path.join(work, f"{name}.time"), encoding="utf-8") as f:
            return dict(l.strip().split(": ", 1) for l in f if ": " in l)
    except OSError:
        return {}


def startup(work, facts, what):
    """Mean, standard deviation, min and max in milliseconds."""
    hf = load(work, f"hf_{what}.json")
    if hf:
        r = hf["results"][0]
        return r["mean"] * 1e3, (r.get("stddev") or 0) * 1e3, r["min"] * 1e3, r["max"] * 1e3
    with open(os.path.join(work, f"loop_{what}.ns"), encoding="utf-8") as f:
        ms = [int(l) / 1e6 for l in f if l.strip()]
    return statistics.mean(ms), statistics.pstdev(ms), min(ms), max(ms)


def main():
    work = sys.argv[1]
    facts = facts_of(work)
    rows, details = [], []

    # 1. At the configured limit.
    s1, r1 = load(work, "stats1.json"), load(work, "report1.json") or {}
    n1 = s1["served"]
    min1 = n1 / RPS + LATENCY_S
    wall1 = secs(facts["run1_wall_ns"])
    ok1 = int(facts["run1_exit"]) == 0 and r1.get("untranslated", 1) == 0
    rows.append((f"wall / theoretical minimum, server limit {RPS}/s = configured, "
                 f"{int(LATENCY_S * 1000)} ms latency, N = {n1} requests",
                 "≤ 1.05", f"{wall1 / min1:.3f} ({wall1:.1f} s / {min1:.1f} s)",
                 verdict(wall1 / min1 <= 1.05 and ok1)))
    rows.append((f"HTTP 429 answers in that run", "0", str(s1["http_429"]),
                 verdict(s1["http_429"] == 0)))
    span1 = (s1["last_arrival_unix_ms"] - s1["first_arrival_unix_ms"]) / 1e3
    t429 = [(t - s1["first_arrival_unix_ms"]) / 1e3 for t in s1.get("http_429_unix_ms", [])]
    details.append(
        f"- Scenario 1: exit {facts['run1_exit']}, untranslated {r1.get('untranslated')}; "
        f"server saw {s1['requests']} requests ({n1} served) from first to last arrival in "
        f"{span1:.1f} s (GCRA floor (N−burst)/R = {(n1 - BURST) / RPS:.1f} s); "
        f"{wall1 - span1:.1f} s of the wall is outside the sending window (start-up, "
        f"reading, languages check, writing); max in flight {s1['max_in_flight']}"
        + (f"; 429s at {', '.join(f'{t:.2f}' for t in t429[:10])} s after the first request"
           if t429 else "") + ".")

    # 2. The server's real limit is half the configured one.
    s2, r2 = load(work, "stats2.json"), load(work, "report2.json") or {}
    exit2 = int(facts["run2_exit"])
    wall2 = secs(facts["run2_wall_ns"])
    stopped = exit2 in TIMED_OUT and int(facts["run2_deadline_s"]) > 0
    min2 = n1 / SLOW_RATE + LATENCY_S
    if stopped:
        measured = (f"> {wall2 / min2:.2f} (stopped at {wall2:.0f} s; {s2['served']} of {n1} "
                    f"requests served, {s2['served'] / wall2:.1f}/s)")
        ok2 = False
    else:
        min2 = s2["served"] / SLOW_RATE + LATENCY_S
        measured = f"{wall2 / min2:.3f} ({wall2:.1f} s / {min2:.1f} s)"
        ok2 = wall2 / min2 <= 1.3
    rows.append((f"wall / theoretical minimum, server limit {SLOW_RATE}/s, configured {RPS}/s",
                 "≤ 1.30", measured, verdict(ok2)))
    done2 = (not stopped and exit2 == 0 and r2.get("untranslated") == 0)
    rows.append(("every paragraph translated in that run (exit 0, report untranslated = 0)",
                 "yes",
                 "not finished (stopped)" if stopped
                 else f"exit {exit2}, untranslated {r2.get('untranslated')}",
                 verdict(done2)))
    said = client_rate_lines(os.path.join(work, "run2.err"))
    rows.append(("HTTP 429 answers in that run; rate the client reported as working",
                 "(report)", f"{s2['http_429']}; " + ("; ".join(said) if said else
                                                     "client printed no rate"),
                 "—"))
    t429 = [(t - s2["first_arrival_unix_ms"]) / 1e3 for t in s2.get("http_429_unix_ms", [])]
    if s2["served"] and s2["last_arrival_unix_ms"]:
        span2 = (s2["last_arrival_unix_ms"] - s2["first_arrival_unix_ms"]) / 1e3
        details.append(
            f"- Scenario 2: exit {exit2}; {s2['requests']} requests arrived, {s2['served']} "
            f"served, {s2['http_429']} answered 429 (Retry-After: 1) over {span2:.1f} s: "
            f"{s2['served'] / max(span2, 1e-9):.2f} served/s against a limit of {SLOW_RATE}/s; "
            + (f"client report: retries {r2.get('retries')}, http_429 {r2.get('http_429')}"
               if r2 else "no report.json (stopped)")
            + (f"; first 429s at {', '.join(f'{t:.2f}' for t in t429[:12])} s" if t429 else "")
            + ".")

    # 3. Batch packing.
    s3 = load(work, "stats3.json")
    max_texts, max_chars = int(facts["batch_texts"]), int(facts["batch_chars"])
    minimum, distinct, by_lang = minimum_requests(os.path.join(work, "o3"), max_texts, max_chars)
    ratio3 = s3["served"] / minimum if minimum else float("nan")
    rows.append((f"requests sent / minimum requests (max_texts {max_texts}, max_chars "
                 f"{max_chars})", "≤ 1.05",
                 f"{ratio3:.3f} ({s3['served']} / {minimum})",
                 verdict(ratio3 <= 1.05 and int(facts["run3_exit"]) == 0)))
    rows.append(("texts sent / distinct texts (deduplication across the run)", "1.00",
                 f"{s3['texts'] / distinct:.3f} ({s3['texts']} / {distinct})",
                 verdict(s3["texts"] == distinct)))
    details.append(
        "- Scenario 3: per language (texts, characters): "
        + ", ".join(f"{l} {t} texts / {c} chars → ≥ {max(math.ceil(t / max_texts), math.ceil(c / max_chars))} requests"
                    for l, (t, c) in sorted(by_lang.items()))
        + f"; {s3['requests']} requests arrived, {s3['http_429']} 429s.")

    # 4. The big corpus: cold run, cached rerun of the unchanged corpus, dry run.
    big = load(work, "big.json") or {}
    floor = load(work, "floor.json") or {}
    docs = f"{big.get('documents', '?'):,} documents ({big.get('paragraphs', 0):,} paragraphs)"
    cold_rss = int(facts.get("cold_maxrss_kb") or 0) * 1024 / 1e6  # KiB -> MB
    rows.append((f"cold run of {docs} against the emulator, every format: peak RSS", "< 200 MB",
                 f"{cold_rss:.0f} MB (exit {facts['cold_exit']}, "
                 f"{secs(facts['cold_wall_ns']):.0f} s)",
                 verdict(int(facts["cold_exit"]) == 0 and cold_rss < 200)))
    for name, label, target in (("rerun", "cached rerun (unchanged corpus)", 5),
                                ("dryrun", "`--dry-run`", 3)):
        wall = secs(facts[f"{name}_wall_ns"])
        code = int(facts[f"{name}_exit"])
        cut = code in TIMED_OUT and int(facts[f"{name}_deadline_s"]) > 0
        shown = f"> {wall:.1f} s (stopped)" if cut else f"{wall:.2f} s"
        note = "" if code == 0 or cut else f" (exit {code})"
        rows.append((f"{label} of {docs}: wall", f"< {target} s",
                     shown + note, verdict(not cut and code == 0 and wall < target)))
        rss = int(facts.get(f"{name}_maxrss_kb") or 0) * 1024 / 1e6  # KiB -> MB
        usage = time_v(work, name)
        if usage:
            details.append(f"- {label}: user {usage.get('User time (seconds)')} s, system "
                           f"{usage.get('System time (seconds)')} s, CPU "
                           f"{usage.get('Percent of CPU this job got')}, voluntary context "
                           f"switches {usage.get('Voluntary context switches')}.")
        # A stopped run had not reached its peak: no verdict from a partial run.
        rows.append((f"{label}: peak RSS", "< 200 MB",
                     f"≥ {rss:.0f} MB (run stopped before its end)" if cut else f"{rss:.0f} MB",
                     "MISS (incomplete)" if cut else verdict(rss < 200)))
        if floor.get("seconds"):
            most = 4 if name == "rerun" else 2
            ratio = wall / floor["seconds"]
            rows.append((f"{label} / reading its inputs and hashing every paragraph "
                         f"(floor: {floor['seconds']:.2f} s)", f"≤ {most}",
                         f"{ratio:.2f}" + (" (stopped)" if cut else ""),
                         verdict(not cut and code == 0 and ratio <= most)))
    if "rerun1_wall_ns" in facts:
        rss1 = int(facts.get("rerun1_maxrss_kb") or 0) * 1024 / 1e6
        details.append(f"- First cached rerun after the cold run (rewrites the files that show "
                       f"each row's `cached` mark): {secs(facts['rerun1_wall_ns']):.2f} s, "
                       f"exit {facts['rerun1_exit']}, peak RSS {rss1:.0f} MB; the rerun rows "
                       f"above are the run after it (corpus, cache and outputs unchanged).")
    if floor:
        details.append(f"- Floor (`bench_floor`, bench/floor.rs): {floor.get('files')} files, "
                       f"{floor.get('paragraphs')} paragraphs, {floor.get('bytes', 0) / 1e6:.0f} MB "
                       f"in {floor.get('seconds')} s; method: {floor.get('method')}.")
    details.append(
        f"- Big corpus: {big.get('documents')} documents, {big.get('paragraphs')} paragraphs "
        f"({big.get('syndicated')} syndicated copies), {big.get('bytes', 0) / 1e6:.0f} MB; "
        f"the cold run (fast server, --rps 10000, --concurrency 16) filled the cache and the "
        f"outputs that the rerun then finds unchanged.")

    # 5. Start-up.
    for what, label in (("version", "`translate --version`"),
                        ("seeds", "cached run of the five seeds")):
        mean, sd, lo, hi = startup(work, facts, what)
        rows.append((f"start-up: {label}", "< 50 ms",
                     f"{mean:.1f} ms (± {sd:.1f}, min {lo:.1f}, max {hi:.1f})",
                     verdict(mean < 50)))

    # 6. MyMemory shape: requests in flight follow rate x latency (only --rps given).
    mm_rates = {}
    for name in [k[:-len("_wall_ns")] for k in facts if k.startswith("mm") and k.endswith("_wall_ns")]:
        st, rep = load(work, f"stats_{name}.json") or {}, load(work, f"report_{name}.json") or {}
        wall, code = secs(facts[f"{name}_wall_ns"]), int(facts[f"{name}_exit"])
        rate, ms = float(facts[f"{name}_rate"]), int(facts[f"{name}_latency_ms"])
        n = st.get("served", 0)
        minimum = n / rate + ms / 1000
        cut = code in TIMED_OUT and int(facts[f"{name}_deadline_s"]) > 0
        target = 1.10 if rate >= RPS else 1.30
        ratio = wall / minimum if minimum else float("inf")
        ok = not cut and code == 0 and rep.get("untranslated") == 0 and ratio <= target
        label = (f"MyMemory shape, server {ms} ms latency, limit {rate:g}/s, client `--rps {RPS}` "
                 f"only: wall / (N/R + latency), N = {n} requests")
        shown = (f"> {ratio:.2f} (stopped at {wall:.0f} s)" if cut
                 else f"{ratio:.3f} ({wall:.1f} s / {minimum:.1f} s)")
        rows.append((label, f"≤ {target:.2f}", shown, verdict(ok)))
        mm_rates[name] = n / wall if wall else 0
        said = client_rate_lines(os.path.join(work, f"{name}.err"))
        details.append(
            f"- {name}: exit {code}, untranslated {rep.get('untranslated')}; server: "
            f"{st.get('requests')} requests, {n} served, {st.get('http_429')} answered 429, "
            f"max {st.get('max_in_flight')} in flight; {n / wall if wall else 0:.2f} served/s "
            f"over the whole run" + (f"; client: {'; '.join(said)}" if said else "") + ".")
    dt = load(work, "dt.json")
    if dt and "mm300" in mm_rates:
        ours = mm_rates["mm300"]
        rows.append((f"our requests/s over deep-translator {dt['version']}'s (its MyMemory loop, "
                     f"PyPI), same server: 300 ms, limit {RPS}/s", "≥ 5",
                     f"{ours / dt['requests_per_s']:.1f} ({ours:.2f} / {dt['requests_per_s']:.2f} "
                     f"requests/s)", verdict(ours / dt["requests_per_s"] >= 5)))
        details.append(f"- deep-translator {dt['version']}: {dt['texts']} texts one after the "
                       f"other in {dt['wall_s']:.1f} s (`MyMemoryTranslator.translate_batch`, its "
                       f"endpoint constant pointed at the emulator); ours: the 300 ms row's "
                       f"requests served over its whole wall time, start-up included.")

    # 7. Output sizes.
    sz = load(work, "sizes_seeds.json")
    if sz:
        per = sz["per_input_byte"]
        rows.append(("seeds' review pages: bytes per input byte (first run; with the two shared "
                     "files in brackets)", "≤ 4",
                     f"{per.get('html', 0):.2f} ({sz['html_with_shared_per_input_byte']:.2f}); "
                     f"{sz['bytes'].get('html', 0):,} + {sz['shared_bytes']:,} bytes for "
                     f"{sz['input_bytes']:,}",
                     verdict(sz["html_with_shared_per_input_byte"] <= 4)))
        before = {"md": 1.74, "tmx": 2.08, "jsonl": 3.96, "xliff": 2.06}
        worse = [f for f, b in before.items() if per.get(f, 0) > b + 0.005]
        rows.append(("seeds' other formats: bytes per input byte (before: md 1.74, tmx 2.08, "
                     "jsonl 3.96, xliff 2.06)", "≤ before",
                     ", ".join(f"{f} {per.get(f, 0):.2f}" for f in before),
                     verdict(not worse)))
    big_sz = load(work, "sizes_big.json")
    if big_sz:
        per = big_sz["per_input_byte"]
        details.append("- Output of the cached rerun of the big corpus, bytes per input byte: "
                       + ", ".join(f"{f} {v:.2f}" for f, v in per.items())
                       + f" (review pages with the shared files: "
                       f"{big_sz['html_with_shared_per_input_byte']:.2f}); "
                       f"{sum(big_sz['bytes'].values()) / 1e6:.0f} MB for "
                       f"{big_sz['input_bytes'] / 1e6:.0f} MB of input.")
    size = int(facts.get("binary_bytes") or 0)
    rows.append((f"`translate` binary ({facts.get('profile', 'release')} profile)", "≤ 25 MB",
                 f"{size / 1e6:.1f} MB", verdict(size <= 25e6)))

    out = [f"# tarjama benchmark, {facts['date']}", "",
           "| # | measured | target | result | verdict |", "|---|---|---|---|---|"]
    out += [f"| {i} | {m} | {t} | {r} | {v} |" for i, (m, t, r, v) in enumerate(rows, 1)]
    out += ["",
            f"Machine: {facts['nproc']} cores ({facts['cpu']}), {facts['mem_mb']} MB RAM; "
            f"load average {facts['load_start']} at the start, {facts['load_end']} at the end; "
            f"{facts['version']} at {facts['commit']}; {facts['date']}.",
            "",
            "Method: `bash bench/run.sh`. Each scenario starts its own emulator "
            "(`bench/server.rs`: LibreTranslate or MyMemory wire format, per-request latency, "
            "token bucket answering 429 with `Retry-After`) and runs the release `translate` on a "
            "corpus generated by `bench/corpus.py` from `seeds/`. The MyMemory rows run the "
            "shipped config's `mymemory` provider with only `--rps 20` (and `--endpoint`); "
            "their minimum is N / the server's limit + one latency. deep-translator is "
            "installed from PyPI into a venv the bench makes (`bench/dt_mymemory.py` runs "
            "its loop). Sizes: every output file of a first run over the seeds, per byte of "
            "the seed files (`bench/sizes.py`). Wall times are the whole "
            "process (start to exit), by the runner's clock; N is the number of requests the "
            "server served; theoretical minimum = N / limit + one latency (the initial burst "
            "is not credited). Minimum requests = Σ over source languages of "
            "max(⌈texts / max_texts⌉, ⌈chars / max_chars⌉) over the distinct texts the run "
            "had to send (read back from its JSONL). Peak RSS by `/usr/bin/time -v` (else "
            "VmHWM polling). Start-up by "
            + ("hyperfine (mean of 20-30 runs after 3 warm-ups)."
               if facts.get("startup_tool") == "hyperfine" else "a loop of 20 runs."),
            "",
            "Details:"] + details
    print("\n".join(out))


if __name__ == "__main__":
    main()

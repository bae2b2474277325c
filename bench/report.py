"""Renders bench/results/results-*.json as the figures section of docs/BENCHMARKS.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

START, END = "<!-- results:start -->", "<!-- results:end -->"


def _r(x: float) -> str:
    return f"{x:.2f}"


def render(res: dict) -> str:
    m = res["machine"]
    v = m["versions"]
    lines = [
        f"Mode **{res['mode']}**, started {res['started']} UTC, {res['seconds']} s. "
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, load average at start "
        f"{' '.join(m['loadavg_at_start'])} (shared with other developers' test runs).",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
    ]
    p = res["params"]
    if "http" in res:
        s = res["http"]["summary"]
        lines += [
            "### 1-2. Request overhead: trivial view under gunicorn + wrk",
            "",
            f"gunicorn `-w {p['workers']} -k sync`, `wrk -t1 -c{p['connections']} -d{p['seconds']}s "
            f"--latency`, {p.get('http_rounds', p['rounds'])} interleaved rounds (order reversed "
            "every other round; many short runs, so that each pair is measured seconds apart); "
            "medians of the per-round ratios to the baseline measured in the same round. "
            "Worker CPU: user + system CPU seconds of the gunicorn worker over each wrk run (the "
            "kernel's count), per request: it leaves out time stolen by other guests, though "
            "contention still inflates it (for django-tenants it also leaves out the PostgreSQL "
            "work its per-request queries cause).",
            "",
            "| server | req/s ratio to baseline | worker CPU/request ratio to baseline | p50 ratio "
            "| p99 ratio | req/s ratio to django-tenants | req/s (median, noisy) "
            "| worker CPU us/request | p50 / p99 ms |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name in ("baseline", "tenancy", "tenancy_custom_domain", "tenancy_strict", "django_tenants",
                     "tenancy_lean"):
            if name not in s:
                continue
            x = s[name]
            lines.append(
                f"| {name} | **{_r(x['rps_ratio'])}** | {_r(x['cpu_ratio'])} | {_r(x['p50_ratio'])} "
                f"| {_r(x['p99_ratio'])} | **{_r(x['rps_ratio_to_django_tenants'])}** | {x['rps']:.0f} "
                f"| {x['cpu_us']:.0f} | {x['p50_ms']:.2f} / {x['p99_ms']:.2f} |"
            )
        t = s["tenancy"]
        lines += [
            "",
            "Target 1 (tenancy >= 0.95 of baseline req/s): "
            f"**{'met' if t['rps_ratio'] >= 0.95 else 'NOT met'}** "
            f"({_r(t['rps_ratio'])}); the worker's CPU per request is "
            f"**{_r(t['cpu_ratio'])}x** the baseline's.",
            "",
            "Target 2 (>= 3x django-tenants), the product's whole stack: "
            f"**{'met' if t['rps_ratio_to_django_tenants'] >= 3 else 'NOT met'}** "
            f"({_r(t['rps_ratio_to_django_tenants'])}; the baseline, with no tenancy at all, is "
            f"{_r(s['baseline']['rps_ratio_to_django_tenants'])}x: the product's other middlewares, "
            "which the django-tenants project does not run, bound this figure).",
        ]
        if "tenancy_lean" in s:
            lean = s["tenancy_lean"]
            lines += [
                "Like for like (`tenancy_lean`: the tenant middlewares on exactly the django-tenants "
                "project's middleware list, `bench/settings_tenancy_lean.py`): "
                f"**{'met' if lean['rps_ratio_to_django_tenants'] >= 3 else 'NOT met'}** "
                f"(**{_r(lean['rps_ratio_to_django_tenants'])}x** django-tenants' req/s).",
            ]
        lines.append("")
        if "tenancy_custom_domain" in s:
            c = s["tenancy_custom_domain"]
            lines += [
                "Custom domain (issue 15): the same product and account reached on a verified custom "
                f"domain runs at **{_r(c['rps_ratio'])}** of baseline req/s, against "
                f"**{_r(t['rps_ratio'])}** on the number host measured side by side "
                f"(custom domain / number host, per round: **{_r(c['rps_ratio_to_number_host'])}**); "
                f"worker CPU per request **{_r(c['cpu_ratio'])}x** the baseline's against "
                f"**{_r(t['cpu_ratio'])}x** on the number host.",
                "",
            ]
    if "inproc" in res:
        lines += [
            "In-process cost per request through Django's WSGI handler (no server, no network; "
            f"{p['inproc_n']} requests per variant and round, {p['rounds']} rounds). Baseline, "
            "tenancy and the custom domain are served side by side by one process per round "
            "(`bench/inproc.py --side-by-side`: one handler per variant, with `bare` (no "
            "middleware) and `django_default` (Django's startproject list), alternating blocks of 100 "
            "requests); the strict variant, whose push setting is read at start-up, runs in its "
            "own process next to a baseline process. Medians of the per-round ratios:",
            "",
            "| stack | us/request (median) | ratio to baseline | ratio to django_default |",
            "|---|---|---|---|",
        ]
        for name, x in res["inproc"].items():
            django = f"**{_r(x['to_django'])}**" if x.get("to_django") == x.get("to_django") and \
                "to_django" in x else "–"
            lines.append(f"| {name} | {x['us']:.0f} | **{_r(x['ratio'])}** | {django} |")
        if "tenancy_custom_domain" in res["inproc"]:
            c, t = res["inproc"]["tenancy_custom_domain"], res["inproc"]["tenancy"]
            lines += ["", f"Custom domain / number host in-process: **{_r(c['ratio'] / t['ratio'])}**."]
        t = res["inproc"]["tenancy"]["ratio"]
        verdict = "met" if t <= 1.15 else "NOT met"
        lines += ["", f"Target (tenancy <= 1.15x baseline in-process): **{verdict}** ({_r(t)})."]
        whole = res["inproc"]["tenancy"].get("to_django")
        if whole is not None:
            verdict = "met" if whole <= 1.3 else "NOT met"
            lines += ["", "Target (issue 25: the full product stack, observability included, <= 1.3x "
                      f"Django's startproject middleware list in-process): **{verdict}** ({_r(whole)})."]
        lines += [""]
    if "micro" in res:
        ns = res["micro"]["ns_per_call"]
        redis = ns["ref:redis_get"]
        lines += [
            "### 3. Lookups: ns per call",
            "",
            f"Median of {res['micro']['rounds']} interleaved rounds. Reference measured side by side: "
            f"one Redis GET = {redis} ns, one `Account` SELECT by pk = {ns['ref:db_select_account']} ns. "
            "Ratios are to that Redis GET.",
            "",
            "| function | L1 hit ns (x Redis GET) | L2 hit ns (x) | miss ns (x) |",
            "|---|---|---|---|",
        ]
        funcs = sorted({k.split(":")[0] for k in ns if not k.startswith("ref:")})
        for f in funcs:
            cells = []
            for lvl in ("l1_hit", "l2_hit", "miss"):
                val = ns.get(f"{f}:{lvl}")
                cells.append("–" if val is None else f"{val:,} ({val / redis:.2f})")
            lines.append(f"| `{f}` | " + " | ".join(cells) + " |")
        qd = res["micro"]["queries"]
        zero = qd["anonymous"]["tenant_resolution"] == 0 and qd["resolution_x100"] == 0
        lines += [
            "",
            "Queries per warm request on a tenant host (CaptureQueriesContext): anonymous "
            f"**{qd['anonymous']['total']}** (tenant resolution {qd['anonymous']['tenant_resolution']}); "
            f"signed-in member **{qd['member']['total']}** (tenant resolution "
            f"{qd['member']['tenant_resolution']}; the others are Django's session and user loads). "
            f"100 warm resolutions (account by number + default account + profile): "
            f"**{qd['resolution_x100']}** queries. Target 0: "
            f"**{'met' if zero else 'NOT met'}**.",
            "",
        ]
    if "memory" in res:
        lines += [
            "### 5. Memory of one gunicorn worker",
            "",
            "| L1 size | tenants | requests | VmRSS before kB | after kB | ratio |",
            "|---|---|---|---|---|---|",
        ]
        for label, x in res["memory"].items():
            lines.append(f"| {label} | {x['tenants']} | {x['requests']} | {x['rss_before_kb']} "
                         f"| {x['rss_after_kb']} | **{x['ratio']:.3f}** |")
        samples = "; ".join(
            f"{k}: {' '.join(map(str, x['rss_samples_kb']))}" for k, x in res["memory"].items()
        )
        lines += ["", f"RSS samples every 10% of the run (kB): {samples}", ""]
    if "staleness" in res:
        st = res["staleness"]
        lines += [
            "### 6. Cross-process staleness",
            "",
            "Process A (`bench/staleness.py`) saves the change (signals invalidate and publish); "
            "requests are then sent back to back to 2 gunicorn sync workers (the product's URLs "
            "and settings) until one refuses. Staleness window = time from the save's return "
            "until the first refused request was sent (requests sent earlier got the old answer: "
            "stale answers); the refusing answer's arrival adds that request's own latency. "
            "`tenancy` = push (default), `tenancy_strict` = `TENANCY_PUSH_INVALIDATION=false`.",
            "",
            "| variant | change | trials | window p50 ms | window p99 ms | max ms | stale answers "
            "| refused answer p50 / p99 ms | save p50 ms |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for variant, by_change in st.items():
            for change, x in by_change.items():
                lines.append(f"| {variant} | {change} | {x['trials']} | {x['p50_ms']:.2f} "
                             f"| **{x['p99_ms']:.2f}** | {x['max_ms']:.2f} | **{x['stale_answers']}** "
                             f"| {x['refused_answer_p50_ms']:.2f} / {x['refused_answer_p99_ms']:.2f} "
                             f"| {x['save_p50_ms']:.2f} |")
        p99 = max(x["p99_ms"] for x in st["tenancy"].values())
        lines += ["", f"Target (p99 <= 10 ms with push): **{'met' if p99 <= 10 else 'NOT met'}** "
                  f"({p99:.2f} ms).", ""]
    if "l1map" in res:
        lm = res["l1map"]
        lines += [
            "### 7. Level-1 map: cachetools `TTLCache` vs the hand-written LRU it replaced",
            "",
            "`bench/l1map.py`: 2,048 entries, behind a lock as in the cache; ns per operation, "
            "median of 7 interleaved rounds.",
            "",
            "| map | get (hit) ns | set (evicting) ns | get (miss) ns |",
            "|---|---|---|---|",
        ]
        for impl in ("HandLRU", "Cachetools"):
            lines.append(f"| {impl} | {lm[impl + ':get_hit']:,} | {lm[impl + ':set_evicting']:,} "
                         f"| {lm[impl + ':get_miss']:,} |")
        lines += ["", f"Ratio cachetools / hand-written: get hit **{lm['ratio_get_hit']}**, "
                  f"set **{lm['ratio_set']}**.", ""]
    if "scale" in res:
        sc = res["scale"]["scales"]
        base = sc[0]
        lines += [
            "### 4. Scoped first page at scale (PostgreSQL)",
            "",
            f"{res['scale']['accounts']} accounts, one member each. `Workspace.objects."
            "with_read_permission_for(member).order_by('-created_at')[:50]`, 20 members x "
            "interleaved with the unscoped `filter(account_id=...)` same page (plain). "
            "Growth ratio = p50 at this scale / p50 at the smallest scale.",
            "",
            "| rows | rows/account | load s | scoped p50 ms | p99 ms | growth ratio p50 | scoped / plain p50 "
            "| index scan on account_id |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for x in sc:
            lines.append(
                f"| {x['rows']:,} | {x['rows_per_account']} | {x['load_seconds']} | {x['scoped_p50_ms']:.2f} "
                f"| {x['scoped_p99_ms']:.2f} | **{x['scoped_p50_ms'] / base['scoped_p50_ms']:.2f}** "
                f"| {x['scoped_p50_ms'] / x['plain_p50_ms']:.2f} "
                f"| {'yes' if x['index_scan_on_account_id'] else 'NO'} |"
            )
        lines += ["", f"EXPLAIN ANALYZE at {sc[-1]['rows']:,} rows:", "", "```", sc[-1]["explain"], "```", ""]
    return "\n".join(lines)


def update_doc(doc: Path, text: str) -> None:
    body = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in body:
        body += f"\n{START}\n{END}\n"
    head, rest = body.split(START, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{START}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))

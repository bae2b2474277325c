"""Runs every benchmark of docs/BENCHMARKS.md and writes bench/results/ + the doc's figures.

Invoked by bench/run. Servers bind 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASELINE_HEADER,
    BENCH,
    CUSTOM_DOMAIN,
    DB,
    PORT_BASE,
    REDIS_DB,
    RESULTS,
    ROOT,
    TENANTS_DB,
    account_number,
    median,
    product_env,
    tenant_host,
)

PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TVENV = BENCH / ".venv-tenants"
TPROJECT = BENCH / "tenants_project"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
DOC = ROOT / "docs" / "BENCHMARKS.md"


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


def sh(cmd: list[str], **kw) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def psql(db: str, *sql: str) -> None:
    args = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1", db]
    for s in sql:
        args += ["-c", s]
    sh(args)


# --- setup -------------------------------------------------------------------------------
def setup_product(accounts: int) -> None:
    log(f"product DB {DB}: migrate, initialise, seed {accounts} accounts")
    psql("postgres", f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB}")
    sh(["redis-cli", "-n", REDIS_DB, "FLUSHDB"])
    env = product_env(PLATFORM_ADMIN_PASSWORD="bench-password-123")
    sh([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env)
    sh([PY, "manage.py", "initialize_platform", "--no-input"], cwd=ROOT, env=env)
    sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1",
        "-v", f"n={accounts}", "-f", str(BENCH / "seed.sql"), DB])
    seed_custom_domain(env)


def seed_custom_domain(env: dict) -> None:
    """A verified custom domain serving bench account 1 (saved through the model)."""
    code = (
        "from accounts.models import UserProfile; from domains.models import Domain; "
        "from django.utils import timezone; "
        f"p = UserProfile.objects.get(account__account_number='{account_number(1)}'); "
        f"d = Domain(user_profile=p, hostname='{CUSTOM_DOMAIN}'); d.save(); "
        "d.status, d.verified_at = Domain.VERIFIED, timezone.now(); "
        "d.save(update_fields=['status', 'verified_at'])"
    )
    sh([PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=env)
    (RESULTS / "static").mkdir(parents=True, exist_ok=True)


def setup_tenants_venv() -> None:
    if not (TVENV / "bin" / "gunicorn").exists():
        log("creating bench/.venv-tenants (pinned bench/requirements-tenants.txt)")
        sh([sys.executable, "-m", "venv", str(TVENV)])
        sh([str(TVENV / "bin" / "pip"), "install", "-q", "-r", str(BENCH / "requirements-tenants.txt")])


def setup_tenants(tenants: int) -> None:
    log(f"django-tenants DB {TENANTS_DB}: migrate_schemas, {tenants} tenant schemas")
    psql("postgres", f"DROP DATABASE IF EXISTS {TENANTS_DB}", f"CREATE DATABASE {TENANTS_DB}")
    tpy = str(TVENV / "bin" / "python")
    sh([tpy, "manage.py", "migrate_schemas", "--shared", "-v0"], cwd=TPROJECT)
    sh([tpy, "setup_tenants.py", str(tenants)], cwd=TPROJECT)


def setup_profiler() -> None:
    if not (BENCH / ".venv-prof" / "pyinstrument").exists():
        log("installing pyinstrument into bench/.venv-prof")
        sh([PY, "-m", "pip", "install", "-q", "--target", str(BENCH / ".venv-prof"),
            "-r", str(BENCH / "requirements-prof.txt")])


# --- servers -------------------------------------------------------------------------------
class Server:
    def __init__(self, name: str, port: int, cmd: list[str], env: dict, cwd: Path) -> None:
        self.name, self.port = name, port
        self.proc = subprocess.Popen(cmd + ["-b", f"127.0.0.1:{port}"], env=env, cwd=cwd,
                                     stdout=subprocess.DEVNULL, stderr=open(RESULTS / f"{name}.log", "w"))

    def wait_ready(self, host: str) -> None:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if get(self.port, host) == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer 200 on port {self.port}")

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def get(port: int, host: str, path: str = "/") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def product_server(name: str, settings: str, port: int, workers: int,
                   app: str = "smarter.wsgi:application", **env: str) -> Server:
    cmd = [GUNICORN, app, "-w", str(workers), "-k", "sync", "--log-level", "warning"]
    return Server(name, port, cmd, product_env(DJANGO_SETTINGS_MODULE=settings, **env), ROOT)


def tenants_server(port: int, workers: int) -> Server:
    cmd = [str(TVENV / "bin" / "gunicorn"), "tproject.wsgi:application", "-w", str(workers),
           "-k", "sync", "--log-level", "warning"]
    return Server("django_tenants", port, cmd, product_env(PYTHONPATH=str(TPROJECT)), TPROJECT)


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNIT[m.group(2)]


def wrk(port: int, host: str, seconds: int, connections: int, *headers: str) -> dict:
    extra = [arg for header in headers for arg in ("-H", header)]
    out = sh([WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Host: {host}",
              *extra, f"http://127.0.0.1:{port}/"])
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx responses from port {port}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": requests, "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]),
            "socket_errors": errors.group(1) if errors else ""}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (the kernel's count: time a noisy
    neighbour steals from the machine is not in it, unlike wall-clock requests/s)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# --- 1 + 2: request overhead --------------------------------------------------------------------
def ratio(runs: list[dict], base: list[dict], key: str) -> float:
    """Median over rounds of the ratio to the reference measured in the same round."""
    return median([x[key] / b[key] for x, b in zip(runs, base, strict=True)])


def bench_http(args) -> dict:
    """Each variant is (server, Host, extra headers). Baseline, tenancy and the custom domain
    are one gunicorn worker running ``bench.stacks`` (both stacks side by side, the baseline
    chosen by a header), so no process-to-process difference enters their ratios; the strict
    variant (push off, read at start-up) and django-tenants have servers of their own."""
    host = tenant_host(1)
    side_by_side = product_server("side_by_side", "bench.settings_tenancy", PORT_BASE + 1, args.workers,
                                  app="bench.stacks:application")
    servers = [
        side_by_side,
        product_server("tenancy_strict", "bench.settings_tenancy_strict", PORT_BASE + 3, args.workers),
        tenants_server(PORT_BASE + 4, args.workers),
        product_server("tenancy_lean", "bench.settings_tenancy_lean", PORT_BASE + 5, args.workers),
    ]
    baseline_header = "{}: {}".format(*BASELINE_HEADER)
    variants = {
        "baseline": (side_by_side, host, (baseline_header,)),
        "tenancy": (side_by_side, host, ()),
        # the same product and worker, its account 1 reached on a verified custom domain
        "tenancy_custom_domain": (side_by_side, CUSTOM_DOMAIN, ()),
        "tenancy_strict": (servers[1], host, ()),
        "django_tenants": (servers[2], "t00001.localhost", ()),
        # the tenant middlewares on exactly django-tenants' middleware list (like for like)
        "tenancy_lean": (servers[3], host, ()),
    }
    rounds: dict[str, list[dict]] = {k: [] for k in variants}
    try:
        for srv, h, headers in variants.values():
            srv.wait_ready(h)
            wrk(srv.port, h, 2, args.connections, *headers)  # warm: tenant in L1/L2
        workers = {srv.name: srv.worker_pids() for srv in servers}
        for r in range(args.http_rounds):
            order = list(variants) if r % 2 == 0 else list(reversed(variants))
            for name in order:
                srv, h, headers = variants[name]
                cpu = cpu_seconds(workers[srv.name])
                run = wrk(srv.port, h, args.seconds, args.connections, *headers)
                run["cpu_us"] = (cpu_seconds(workers[srv.name]) - cpu) / run["requests"] * 1e6
                rounds[name].append(run)
            log(f"http round {r + 1}/{args.http_rounds}: "
                + ", ".join(f"{n} {rounds[n][-1]['rps']:.0f}" for n in variants))
    finally:
        for srv in servers:
            srv.stop()
    summary = {}
    for name, rs in rounds.items():
        summary[name] = {
            "rps": median([x["rps"] for x in rs]),
            "p50_ms": median([x["p50_ms"] for x in rs]),
            "p99_ms": median([x["p99_ms"] for x in rs]),
            # per-round ratio to the baseline run in the same round, then the median
            "rps_ratio": ratio(rs, rounds["baseline"], "rps"),
            "rps_ratio_to_django_tenants": ratio(rs, rounds["django_tenants"], "rps"),
            "rps_ratio_to_number_host": ratio(rs, rounds["tenancy"], "rps"),
            "cpu_us": median([x["cpu_us"] for x in rs]),
            "cpu_ratio": ratio(rs, rounds["baseline"], "cpu_us"),
            "p50_ratio": ratio(rs, rounds["baseline"], "p50_ms"),
            "p99_ratio": ratio(rs, rounds["baseline"], "p99_ms"),
            "socket_errors": sorted({x["socket_errors"] for x in rs if x["socket_errors"]}),
        }
    return {"rounds": rounds, "summary": summary}


def bench_inproc(args) -> dict:
    """Per-request cost through the WSGI handler in-process.

    Baseline, tenancy and the custom domain side by side in one process (``inproc.py
    --side-by-side``), one such process per round; the strict variant (push off, a setting
    read at start-up) in its own process, interleaved with a baseline process."""
    us: dict[str, list[float]] = {n: [] for n in ("bare", "django_default", "baseline", "tenancy",
                                                  "tenancy_custom_domain", "tenancy_strict")}
    ratios: dict[str, list[float]] = {n: [] for n in us}
    to_django: dict[str, list[float]] = {n: [] for n in us}
    # Metrics as under gunicorn (gunicorn.conf.py): prometheus_client's multiprocess values,
    # memory-mapped files written on every request, not in-memory counters.
    metrics_dir = RESULTS / "inproc-metrics"
    env = {name: product_env(DJANGO_SETTINGS_MODULE=f"bench.settings_{name}",
                             PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
           for name in ("baseline", "tenancy", "tenancy_strict")}
    for r in range(args.rounds):
        shutil.rmtree(metrics_dir, ignore_errors=True)
        out = sh([PY, str(BENCH / "inproc.py"), "--side-by-side", tenant_host(1), CUSTOM_DOMAIN,
                  str(args.inproc_n)], env=env["tenancy"], cwd=ROOT)
        same = json.loads(out.splitlines()[-1])
        for name, value in same.items():
            us[name].append(value)
            ratios[name].append(value / same["baseline"])
            to_django[name].append(value / same["django_default"])
        pair = {}
        for name in ("baseline", "tenancy_strict") if r % 2 == 0 else ("tenancy_strict", "baseline"):
            pair[name] = float(sh([PY, str(BENCH / "inproc.py"), tenant_host(1), str(args.inproc_n)],
                                  env=env[name], cwd=ROOT).split()[-1])
        us["tenancy_strict"].append(pair["tenancy_strict"])
        ratios["tenancy_strict"].append(pair["tenancy_strict"] / pair["baseline"])
    log("inproc: " + ", ".join(f"{n} {median(v):.0f}us" for n, v in us.items()))
    return {n: {"us": median(v), "ratio": median(ratios[n]), "to_django": median(to_django[n])}
            for n, v in us.items()}


def profile(args) -> dict:
    host = tenant_host(1)
    files = {}
    for name in ("baseline", "tenancy", "tenancy_strict"):
        path = RESULTS / f"profile_{name}.txt"
        sh([PY, str(BENCH / "inproc.py"), host, str(args.inproc_n), "--profile", str(path)],
           env=product_env(DJANGO_SETTINGS_MODULE=f"bench.settings_{name}"), cwd=ROOT)
        files[name] = str(path.relative_to(ROOT))
    return files


# --- 3 ----------------------------------------------------------------------------------------
def bench_micro(args) -> dict:
    cmd = [PY, str(BENCH / "micro.py")] + (["--quick"] if args.quick else [])
    return json.loads(sh(cmd, env=product_env(DJANGO_SETTINGS_MODULE="bench.settings_tenancy"), cwd=ROOT))


# --- 4 ----------------------------------------------------------------------------------------
def bench_scale(args) -> dict:
    cmd = [PY, str(BENCH / "scale.py"), str(args.accounts), ",".join(map(str, args.scales))]
    cmd += ["--quick"] if args.quick else []
    return json.loads(sh(cmd, env=product_env(DJANGO_SETTINGS_MODULE="bench.settings_tenancy"), cwd=ROOT))


# --- 5 ----------------------------------------------------------------------------------------
def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def bench_memory(args) -> dict:
    out = {}
    for label, extra in (("default_l1", {}), ("small_l1_256", {"TENANCY_L1_MAXSIZE": "256"})):
        srv = product_server(f"memory_{label}", "bench.settings_tenancy", PORT_BASE + 10, 1, **extra)
        try:
            srv.wait_ready(tenant_host(0))
            for _ in range(200):
                get(srv.port, tenant_host(0))
            (pid,) = srv.worker_pids()
            before = rss_kb(pid)
            samples = []
            for i in range(args.memory_requests):
                status = get(srv.port, tenant_host(i % args.memory_tenants))
                if status != 200:
                    raise RuntimeError(f"status {status} for {tenant_host(i % args.memory_tenants)}")
                if (i + 1) % max(1, args.memory_requests // 10) == 0:
                    samples.append(rss_kb(pid))
            after = rss_kb(pid)
        finally:
            srv.stop()
        out[label] = {"rss_before_kb": before, "rss_after_kb": after, "ratio": after / before,
                      "rss_samples_kb": samples, "tenants": args.memory_tenants,
                      "requests": args.memory_requests}
        log(f"memory {label}: {before} kB -> {after} kB")
    return out


# --- 6: cross-process staleness ----------------------------------------------------------------
def bench_staleness(args) -> dict:
    """Process A (bench/staleness.py) changes, 2 gunicorn workers must refuse: push vs strict."""
    sh([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
       env=product_env(DJANGO_SETTINGS_MODULE="smarter.settings"))
    out = {}
    for name, extra in (("tenancy", {}), ("tenancy_strict", {"TENANCY_PUSH_INVALIDATION": "false"})):
        srv = product_server(f"staleness_{name}", "smarter.settings", 18020, 2, **extra)
        try:
            srv.wait_ready(tenant_host(0))
            env = product_env(DJANGO_SETTINGS_MODULE="smarter.settings", **extra)
            out[name] = json.loads(sh([PY, str(BENCH / "staleness.py"), "smarter.settings",
                                       str(srv.port), str(args.staleness_trials)], env=env, cwd=ROOT))
        finally:
            srv.stop()
        log(f"staleness {name}: " + ", ".join(
            f"{k} p50 {v['p50_ms']:.2f} ms p99 {v['p99_ms']:.2f} ms stale {v['stale_answers']}"
            for k, v in out[name].items()))
    return out


def bench_l1map(args) -> dict:
    return json.loads(sh([PY, str(BENCH / "l1map.py")], cwd=ROOT))


# --- report -----------------------------------------------------------------------------------
def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    mem = next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
               if ln.startswith("MemTotal"))
    redis = sh(["redis-cli", "INFO", "server"])
    ver = {
        "python": platform.python_version(),
        "postgresql": sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"])
        .strip(),
        "redis": re.search(r"redis_version:(\S+)", redis).group(1),
        "wrk": subprocess.run([WRK, "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
    }
    for pkg, py in (("django", PY), ("gunicorn", PY), ("django-hosts", PY), ("django-redis", PY),
                    ("psycopg", PY), ("django-tenants", str(TVENV / "bin" / "python"))):
        code = f"import importlib.metadata as m; print(m.version('{pkg}'))"
        ver[pkg] = sh([py, "-c", code]).strip()
    return {"nproc": sh(["nproc"]).strip(), "ram_gb": round(int(mem) / 1024 / 1024, 1), "cpu": cpu,
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3], "versions": ver}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small scales, short runs")
    p.add_argument("--only", default="http,inproc,profile,micro,memory,scale,staleness,l1map",
                   help="comma-separated subset")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/BENCHMARKS.md")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 7, quick 3)")
    p.add_argument("--http-rounds", type=int,
                   help="interleaved HTTP rounds of short wrk runs (default 30 x 2 s, quick 8 x 1 s)")
    args = p.parse_args()
    q = args.quick
    args.workers = 1
    args.connections = 4
    args.rounds = args.rounds or (3 if q else 7)
    # Many short HTTP runs: a variant and the baseline are measured seconds apart, so the
    # bursts of a shared machine (tens of seconds) fall on both sides of most pairs.
    args.http_rounds = args.http_rounds or (8 if q else 30)
    args.seconds = 1 if q else 2
    args.inproc_n = 1000 if q else 3000
    args.accounts = 1000 if q else 10_000
    args.scales = [10_000, 100_000] if q else [10_000, 100_000, 1_000_000]
    args.memory_tenants = 1000
    args.memory_requests = 3000 if q else 10_000
    args.staleness_trials = 50 if q else 200
    only = set(args.only.split(","))
    RESULTS.mkdir(exist_ok=True)
    setup_tenants_venv()  # also before machine(): it reports django-tenants' version
    started = time.time()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    res: dict = {"mode": "quick" if q else "full", "started": now,
                 "machine": machine(), "params": {k: v for k, v in vars(args).items() if k != "only"}}
    setup_profiler()
    setup_product(max(args.accounts, args.memory_tenants))
    if "http" in only:
        setup_tenants(3)
        res["http"] = bench_http(args)
    if "inproc" in only:
        res["inproc"] = bench_inproc(args)
    if "profile" in only:
        res["profile"] = profile(args)
    if "micro" in only:
        res["micro"] = bench_micro(args)
        log("micro done")
    if "memory" in only:
        res["memory"] = bench_memory(args)
    if "staleness" in only:
        res["staleness"] = bench_staleness(args)
    if "l1map" in only:
        res["l1map"] = bench_l1map(args)
    if "scale" in only:
        res["scale"] = bench_scale(args)
        log("scale done")
    res["seconds"] = round(time.time() - started)
    name = f"results-{res['mode']}.json"
    (RESULTS / name).write_text(json.dumps(res, indent=1))
    from bench.report import render, update_doc

    text = render(res)
    (RESULTS / f"report-{res['mode']}.md").write_text(text)
    if not args.no_doc:
        update_doc(DOC, text)
    print(text)
    log(f"done in {res['seconds']} s; results in {RESULTS / name}")


if __name__ == "__main__":
    main()

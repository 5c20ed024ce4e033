"""``ooni_vs_import``: ``import-ooni`` of N synthetic measurements against ``import`` of the
same N observations already converted, each into a fresh ledger holding the same platforms.

The measurements are shaped as OONI's Web Connectivity measurements (``ooni/spec``
df-000-base and ts-017-web-connectivity: the envelope, and test keys with a DNS query, a
TCP connect and an HTTP request with a short body snapshot; about 2.3 KB a line), in gzip
bucket files of 1,000 lines, as OONI publishes them. Hosts are the platforms' domain names
and, for unreachable ones, subdomains of them (matched at their parent; a reachable
subdomain is skipped), over 2,000 platforms, over a year, in each ``blocking`` value that
makes an observation (so that both sides write N events).

The baseline's file is the export of what ``import-ooni`` recorded (its access-observed
events), so both sides write the same events; both run as the command line runs them
(in-process, ``CliRunner``), twice each, alternating, the best of each kept.
"""

from __future__ import annotations

import gzip
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

PLATFORMS = 2_000
PER_FILE = 1_000
START = datetime(2024, 1, 1, tzinfo=UTC)
#: Every measurement converts (skipped ones would only flatter import-ooni): reachable, and
#: each method of blocking.
_BLOCKING = [(True, False), (False, "dns"), (False, "tcp_ip"), (False, "http-failure"),
             (False, "http-diff")]


def platforms(n: int = PLATFORMS) -> Iterator[dict[str, Any]]:
    """The registrations: platform i holds p{i}.example and www.p{i}.example since 2020."""
    for i in range(n):
        yield {"type": "platform-registered", "subject": f"p{i}", "occurred_at": "2020-01-01",
               "sources": [{"url": f"https://registry.example/p{i}"}],
               "data": {"name": f"Platform {i}", "targets": [f"p{i}.example",
                                                             f"www.p{i}.example"]}}


def measurements(n: int, seed: int = 15) -> Iterator[dict[str, Any]]:
    """``n`` Web Connectivity measurements, deterministic for ``seed``, in time order."""
    rng = random.Random(seed)
    step = timedelta(days=365) / max(n, 1)
    for k in range(n):
        p = rng.randrange(PLATFORMS)
        accessible, blocking = _BLOCKING[k % len(_BLOCKING)]
        # A reachable subdomain matched at its parent is skipped (it says nothing of the
        # parent): only an unreachable one is measured on a subdomain here.
        host = rng.choice([f"p{p}.example", f"www.p{p}.example"] + (
            [] if accessible else [f"cdn{k % 7}.p{p}.example"]))
        at = START + step * k
        cc, asn = rng.choice([("ID", "AS7713"), ("RU", "AS12389"), ("BR", "AS28573"),
                              ("TR", "AS9121")])
        stamp = at.strftime("%Y%m%dT%H%M%SZ")
        yield {
            "annotations": {"architecture": "arm64", "engine_name": "ooniprobe-engine",
                            "engine_version": "3.22.0", "network_type": "wifi",
                            "platform": "android"},
            "data_format_version": "0.2.0",
            "input": f"https://{host}/",
            "measurement_start_time": at.strftime("%Y-%m-%d %H:%M:%S"),
            "probe_asn": asn, "probe_cc": cc, "probe_ip": "127.0.0.1",
            "probe_network_name": f"Network of {asn}",
            "report_id": f"{stamp}_{asn}_webconnectivity_{k:08d}n1mWPLtkEeHZs9aF0kJgL",
            "resolver_asn": "AS15169", "resolver_ip": "8.8.8.8",
            "resolver_network_name": "Google LLC",
            "software_name": "ooniprobe-android", "software_version": "3.8.2",
            "test_helpers": {"backend": {"address": "https://0.th.ooni.org",
                                         "type": "https"}},
            "test_keys": {
                "agent": "redirect", "client_resolver": "8.8.8.8", "retries": None,
                "socksproxy": None,
                "queries": [{"answers": [{"asn": 13335, "as_org_name": "Cloudflare Inc",
                                          "answer_type": "A", "ipv4": "104.16.1.1",
                                          "ttl": None}],
                             "engine": "system", "failure": None, "hostname": host,
                             "query_type": "A", "resolver_hostname": None,
                             "resolver_port": None, "resolver_address": "",
                             "t0": 0.001, "t": 0.051}],
                "tcp_connect": [{"ip": "104.16.1.1", "port": 443,
                                 "status": {"blocked": blocking == "tcp_ip",
                                            "failure": None, "success": True},
                                 "t0": 0.052, "t": 0.09}],
                "requests": [{"failure": None, "request": {
                    "body": "", "body_is_truncated": False,
                    "headers_list": [["Accept", "text/html"], ["Host", host],
                                     ["User-Agent", "Mozilla/5.0"]],
                    "method": "GET", "tor": {"exit_ip": None, "exit_name": None,
                                             "is_tor": False},
                    "x_transport": "tcp", "url": f"https://{host}/"},
                    "response": {"body": "<!doctype html><title>Welcome</title>" * 8,
                                 "body_is_truncated": False, "code": 200,
                                 "headers_list": [["Content-Type", "text/html"],
                                                  ["Server", "nginx"]]},
                    "t0": 0.1, "t": 0.3}],
                "dns_experiment_failure": None, "dns_consistency": "consistent",
                "control_failure": None, "http_experiment_failure": None,
                "body_length_match": True, "body_proportion": 1, "headers_match": True,
                "status_code_match": True, "title_match": True,
                "blocking": blocking, "accessible": accessible},
            "test_name": "web_connectivity", "test_runtime": 0.42,
            "test_start_time": at.strftime("%Y-%m-%d %H:%M:%S"), "test_version": "0.5.28",
        }


def write_buckets(n: int, folder: Path) -> int:
    """``n`` measurements in gzip files of ``PER_FILE`` lines; return the bytes of JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    size, lines = 0, []
    for k, m in enumerate(measurements(n)):
        lines.append(orjson.dumps(m) + b"\n")
        if len(lines) == PER_FILE or k == n - 1:
            body = b"".join(lines)
            size += len(body)
            (folder / f"{k // PER_FILE:05d}.jsonl.gz").write_bytes(
                gzip.compress(body, compresslevel=6, mtime=0))
            lines = []
    return size


def measure_ooni(n: int) -> dict[str, float]:
    """``ooni_vs_import`` at ``n`` measurements (see the module's docstring)."""
    from click.testing import CliRunner

    from cli import cli

    runner = CliRunner()

    def cli_run(db: str, *args: str) -> float:
        start = time.perf_counter()
        done = runner.invoke(cli, ["--db", db, "--operator", "bench", *args],
                             catch_exceptions=False)
        seconds = time.perf_counter() - start
        assert done.exit_code == 0, done.output
        return seconds

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        registry = root / "platforms.jsonl"
        registry.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in platforms()))
        size = write_buckets(n, root / "buckets")
        best: dict[str, float] = {}
        converted = root / "converted.jsonl"
        for run_, name in enumerate(("ooni", "import", "import", "ooni")):
            db = str(root / f"{run_}.db")
            cli_run(db, "import", str(registry))
            if name == "ooni":
                seconds = cli_run(db, "import-ooni", str(root / "buckets"))
                if not converted.exists():
                    _export_observations(runner, cli, db, converted)
            else:
                seconds = cli_run(db, "import", str(converted))
            best[name] = min(best.get(name, seconds), seconds)
        observed = sum(1 for _ in converted.open("rb"))
    return {"ooni_measurements": n, "ooni_observations": observed,
            "ooni_bytes_per_measurement": round(size / n),
            "ooni_measurements_per_s": n / best["ooni"],
            "ooni_baseline_import_events_per_s": observed / best["import"],
            # The same events written both ways: the ratio of the times.
            "ooni_vs_import": best["import"] / best["ooni"]}


def _export_observations(runner: Any, cli: Any, db: str, out: Path) -> None:
    done = runner.invoke(cli, ["--db", db, "export"], catch_exceptions=False)
    with out.open("wb") as f:
        for line in done.stdout_bytes.splitlines():
            obj = orjson.loads(line)
            if obj["type"] == "access-observed":
                for name in ("recorded_at", "recorded_by", "position", "hash"):
                    obj.pop(name, None)
                f.write(orjson.dumps(obj) + b"\n")

#!/usr/bin/python3
"""hostform stand-in for cAdvisor. This is NOT cAdvisor.

What it does, as cAdvisor would: serves /metrics (port 8080, -port to change) in Prometheus text format with
cAdvisor's metric names and labels (id, name, image), read at each scrape from the host's cgroup v2 files
(/rootfs/sys/fs/cgroup or /sys/fs/cgroup, as mounted by the usual `-v /sys:/sys:ro -v /:/rootfs:ro`), Podman
containers named from /var/lib/containers/storage (`-v /var/lib/containers:/var/lib/containers:ro`):
container_cpu_usage_seconds_total, container_cpu_user_seconds_total, container_cpu_system_seconds_total,
container_memory_usage_bytes, container_memory_working_set_bytes, container_memory_rss,
container_spec_memory_limit_bytes, container_start_time_seconds, container_last_seen, machine_cpu_cores,
machine_memory_bytes, cadvisor_version_info; and /healthz.

Not done: network, filesystem and disk I/O metrics, the web UI, the REST API, and the -docker_only and
housekeeping flags (accepted and ignored).
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import Handler, exit_on_signals, serve  # noqa: E402

VERSION = "v0.49.1"
NAME = "cadvisor"


def cgroup_root():
    for candidate in ("/rootfs/sys/fs/cgroup", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(candidate, "cgroup.controllers")):
            return candidate
    return "/sys/fs/cgroup"


def podman_names():
    """Container id → (name, image name), from Podman's storage as mounted into this container."""
    names = {}
    for storage in ("/var/lib/containers/storage", "/rootfs/var/lib/containers/storage"):
        try:
            with open(os.path.join(storage, "overlay-containers", "containers.json")) as f:
                containers = json.load(f)
            with open(os.path.join(storage, "overlay-images", "images.json")) as f:
                images = {i["id"]: (i.get("names") or [i["id"]])[0] for i in json.load(f)}
        except (OSError, ValueError):
            continue
        for c in containers:
            names[c["id"]] = ((c.get("names") or [""])[0], images.get(c.get("image"), c.get("image", "")))
    return names


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def keyed(path):
    out = {}
    for line in read(path).splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out


def escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"')


def metrics():
    root = cgroup_root()
    names = podman_names()
    now = time.time()
    samples = {}

    def add(metric, labels, value):
        samples.setdefault(metric, []).append((labels, value))

    for dirpath, dirnames, _files in os.walk(root):
        dirnames.sort()
        cid = "/" + os.path.relpath(dirpath, root) if dirpath != root else "/"
        match = re.search(r"libpod-([0-9a-f]{64})\.scope", cid)
        name, image = names.get(match.group(1), ("", "")) if match else ("", "")
        labels = f'id="{escape(cid)}",image="{escape(image)}",name="{escape(name)}"'
        cpu = keyed(os.path.join(dirpath, "cpu.stat"))
        if "usage_usec" in cpu:
            add("container_cpu_usage_seconds_total", f'cpu="total",{labels}', cpu["usage_usec"] / 1e6)
            add("container_cpu_user_seconds_total", labels, cpu.get("user_usec", 0) / 1e6)
            add("container_cpu_system_seconds_total", labels, cpu.get("system_usec", 0) / 1e6)
        current = read(os.path.join(dirpath, "memory.current"))
        if current:
            stat = keyed(os.path.join(dirpath, "memory.stat"))
            usage = int(current)
            add("container_memory_usage_bytes", labels, usage)
            add("container_memory_working_set_bytes", labels, max(0, usage - stat.get("inactive_file", 0)))
            add("container_memory_rss", labels, stat.get("anon", 0))
            limit = read(os.path.join(dirpath, "memory.max"), "max")
            add("container_spec_memory_limit_bytes", labels, 0 if limit == "max" else int(limit))
        add("container_start_time_seconds", labels, os.stat(dirpath).st_ctime)
        add("container_last_seen", labels, now)

    lines = [
        "# HELP cadvisor_version_info A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.",
        "# TYPE cadvisor_version_info gauge",
        f'cadvisor_version_info{{cadvisorRevision="hostform-standin",cadvisorVersion="{VERSION}",dockerVersion="",kernelVersion="{os.uname().release}",osVersion="hostform stand-in"}} 1',
        "# HELP machine_cpu_cores Number of logical CPU cores.",
        "# TYPE machine_cpu_cores gauge",
        f"machine_cpu_cores {os.cpu_count()}",
        "# HELP machine_memory_bytes Amount of memory installed on the machine.",
        "# TYPE machine_memory_bytes gauge",
        f"machine_memory_bytes {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')}",
    ]
    kinds = {"container_cpu_usage_seconds_total": "counter", "container_cpu_user_seconds_total": "counter", "container_cpu_system_seconds_total": "counter"}
    for metric, values in samples.items():
        lines += [f"# HELP {metric} {metric.replace('_', ' ')}", f"# TYPE {metric} {kinds.get(metric, 'gauge')}"]
        lines += [f"{metric}{{{labels}}} {value}" for labels, value in values]
    return "\n".join(lines) + "\n"


class Cadvisor(Handler):
    STANDIN = NAME

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/healthz":
            return self.reply(200, "ok")
        if path == "/metrics":
            return self.reply(200, metrics(), "text/plain; version=0.0.4; charset=utf-8")
        if path in ("/", "/containers/"):
            return self.reply(200, "<!doctype html><title>cAdvisor (hostform stand-in)</title><p>hostform stand-in for cAdvisor: see /metrics", "text/html")
        return self.reply(404, "page not found")


def main(argv):
    port = 8080
    for i, arg in enumerate(argv):
        if arg.lstrip("-").startswith("port="):
            port = int(arg.split("=", 1)[1])
        elif arg.lstrip("-") == "port" and i + 1 < len(argv):
            port = int(argv[i + 1])
        elif arg.lstrip("-") == "version":
            print(f"cAdvisor version {VERSION} (hostform stand-in, NOT cAdvisor)")
            return 0
    exit_on_signals(NAME)
    serve(Cadvisor, port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

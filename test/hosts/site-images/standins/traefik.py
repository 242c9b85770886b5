#!/usr/bin/python3
"""hostform stand-in for Traefik v3. This is NOT Traefik.

What it does, as Traefik v3 would:
- reads the static configuration (--configFile, or /etc/traefik/traefik.{yml,yaml,toml}, or --a.b=c flags)
  and the file provider's dynamic configuration (providers.file.filename or .directory), re-read when a
  file changes (traefik_config_reloads_total counts it);
- listens on every entry point; routes HTTP requests by the routers' rules (Host, HostRegexp, Path,
  PathPrefix, PathRegexp, Method, Header, ClientIP with && || ! and parentheses; priority = rule length
  unless set) to the load-balancer servers' URLs, with X-Forwarded-* headers; 404 "404 page not found"
  when nothing matches, 502 when the backend does not answer;
- middlewares basicAuth (bcrypt, apr1, SHA), redirectScheme, stripPrefix, headers (custom request and
  response headers), ipAllowList; entry point redirections (http.redirections.entryPoint);
- TLS on any entry point when the client speaks it, with the dynamic configuration's certificates or a
  self-signed "TRAEFIK DEFAULT CERT"; routers with `tls` match only TLS requests, others only plain ones;
- the api (dashboard, /api/http/routers, /api/http/services, /api/version, /api/rawdata), ping (/ping)
  and the Prometheus metrics (traefik_entrypoint_*, traefik_router_*, traefik_service_*,
  traefik_config_*, traefik_tls_certs_not_after) on their entry point (`traefik`, :8080, by default);
- the access log in Traefik's common (CLF) or json format: requests to @internal services (api,
  dashboard, ping, metrics, entry point redirections) only with accessLog.addInternals; accessLog.fields
  applied (names and defaultMode keep or drop fields, a dropped one written "-"; request headers
  dropped unless fields.headers keeps or redacts them); basicAuth logs the user name it was given,
  matched or not.

What it does NOT do: ACME (certificate resolvers are read and ignored: the default certificate is
served), TCP/UDP routers, providers other than file, plugins, tracing, and every middleware not listed.
"""

import base64
import glob
import hashlib
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import tomllib
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import exit_on_signals, log as standin_log  # noqa: E402

VERSION = "3.4.1"
NAME = "traefik"
DEFAULT_CERT = ("/etc/traefik-standin/default.crt", "/etc/traefik-standin/default.key")
HOP_HEADERS = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"}
BUCKETS = (0.1, 0.3, 1.2, 5.0)


def log(message):
    standin_log(NAME, message)


# ---------------------------------------------------------------- configuration helpers


def ci(mapping, key, default=None):
    """Traefik's configuration keys are case-insensitive."""
    if not isinstance(mapping, dict):
        return default
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == key.lower():
            return v
    return default


def load_file(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".toml"):
        return tomllib.loads(data.decode())
    return yaml.safe_load(data) or {}


def flags_to_config(args):
    """--entrypoints.web.address=:80 → {'entrypoints': {'web': {'address': ':80'}}}; a bare flag is true."""
    config = {}
    for arg in args:
        if not arg.startswith("--"):
            continue
        key, _, value = arg[2:].partition("=")
        if key.lower() == "configfile":
            continue
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value if "=" in arg else True
    return config


def static_config(args):
    path = next((a.split("=", 1)[1] for a in args if a.lower().startswith("--configfile=")), None)
    if path is None:
        for i, a in enumerate(args):
            if a.lower() == "--configfile" and i + 1 < len(args):
                path = args[i + 1]
    if path is None:
        for candidate in ("/etc/traefik/traefik", os.path.expanduser("~/.config/traefik"), "./traefik"):
            for ext in (".yml", ".yaml", ".toml"):
                if os.path.exists(candidate + ext):
                    path = candidate + ext
                    break
            if path:
                break
    if path:
        log(f"Configuration loaded from file: {path}")
        return load_file(path), path
    return flags_to_config(args), None


def parse_address(address):
    match = re.fullmatch(r"(.*):(\d+)(/tcp)?", str(address))
    if not match:
        raise SystemExit(f"traefik stand-in: entry point address {address!r} is not [host]:port[/tcp]")
    return match.group(1) or "0.0.0.0", int(match.group(2))


# ---------------------------------------------------------------- rules


class RuleError(Exception):
    pass


def tokenize(rule):
    tokens, i = [], 0
    while i < len(rule):
        c = rule[i]
        if c.isspace():
            i += 1
        elif rule.startswith("&&", i) or rule.startswith("||", i):
            tokens.append(rule[i : i + 2])
            i += 2
        elif c in "!(),":
            tokens.append(c)
            i += 1
        elif c in "`\"":
            end = rule.find(c, i + 1)
            if end < 0:
                raise RuleError(f"unterminated string in {rule!r}")
            tokens.append(("str", rule[i + 1 : end]))
            i = end + 1
        else:
            match = re.match(r"[A-Za-z]+", rule[i:])
            if not match:
                raise RuleError(f"unexpected {c!r} in {rule!r}")
            tokens.append(("name", match.group(0)))
            i += len(match.group(0))
    return tokens


def host_of(request):
    return (request["host"] or "").split(":")[0].lower().rstrip(".")


MATCHERS = {
    "Host": lambda r, a: host_of(r) == a[0].lower(),
    # v3's regexp matchers are Go's MatchString: unanchored unless the pattern anchors itself.
    "HostRegexp": lambda r, a: re.search(a[0], host_of(r)) is not None,
    "Path": lambda r, a: r["path"] == a[0],
    "PathPrefix": lambda r, a: r["path"].startswith(a[0]),
    "PathRegexp": lambda r, a: re.search(a[0], r["path"]) is not None,
    "Method": lambda r, a: r["method"] == a[0].upper(),
    "Header": lambda r, a: r["headers"].get(a[0]) == a[1],
    "HeaderRegexp": lambda r, a: re.search(a[1], r["headers"].get(a[0]) or "") is not None,
    "Query": lambda r, a: a[0] in r["query"] and (len(a) < 2 or a[1] in r["query"][a[0]]),
    "ClientIP": lambda r, a: ipaddress.ip_address(r["client"]) in ipaddress.ip_network(a[0], strict=False),
}


def compile_rule(rule):
    """Returns a predicate over a request dict; raises RuleError for what Traefik would refuse."""
    tokens = tokenize(rule)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary():
        tok = take() if peek() is not None else None
        if tok == "!":
            inner = primary()
            return lambda r: not inner(r)
        if tok == "(":
            inner = disjunction()
            if take() != ")":
                raise RuleError(f"missing ) in {rule!r}")
            return inner
        if isinstance(tok, tuple) and tok[0] == "name":
            name = tok[1]
            if name not in MATCHERS:
                raise RuleError(f"unsupported matcher {name} in {rule!r}")
            if take() != "(":
                raise RuleError(f"{name} needs arguments in {rule!r}")
            args = []
            while True:
                arg = take()
                if not (isinstance(arg, tuple) and arg[0] == "str"):
                    raise RuleError(f"{name}: arguments are quoted strings in {rule!r}")
                args.append(arg[1])
                sep = take()
                if sep == ")":
                    break
                if sep != ",":
                    raise RuleError(f"{name}: expected , or ) in {rule!r}")
            if name == "Host" and len(args) != 1:
                raise RuleError(f"Host takes one host in Traefik v3 (use ||): {rule!r}")
            matcher = MATCHERS[name]
            return lambda r: matcher(r, args)
        raise RuleError(f"unexpected {tok!r} in {rule!r}")

    def conjunction():
        left = primary()
        while peek() == "&&":
            take()
            right, first = primary(), left
            left = lambda r, a=first, b=right: a(r) and b(r)
        return left

    def disjunction():
        left = conjunction()
        while peek() == "||":
            take()
            right, first = conjunction(), left
            left = lambda r, a=first, b=right: a(r) or b(r)
        return left

    if not tokens:
        raise RuleError("empty rule")
    predicate = disjunction()
    if pos != len(tokens):
        raise RuleError(f"trailing tokens in {rule!r}")
    return predicate


# ---------------------------------------------------------------- basic auth


def apr1(password, salt):
    """Apache's MD5-based htpasswd scheme ($apr1$), as Traefik's basicAuth accepts it."""
    magic = b"$apr1$"
    pw, salt = password.encode(), salt.encode()
    final = hashlib.md5(pw + salt + pw).digest()
    ctx = pw + magic + salt
    for i in range(len(pw), 0, -16):
        ctx += final[: min(16, i)]
    i = len(pw)
    while i:
        ctx += b"\0" if i & 1 else pw[:1]
        i >>= 1
    final = hashlib.md5(ctx).digest()
    for i in range(1000):
        c = (pw if i & 1 else final) + (salt if i % 3 else b"") + (pw if i % 7 else b"") + (final if i & 1 else pw)
        final = hashlib.md5(c).digest()
    itoa = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    def to64(v, n):
        out = ""
        for _ in range(n):
            out += itoa[v & 0x3F]
            v >>= 6
        return out

    f = final
    out = "".join(to64((f[a] << 16) | (f[b] << 8) | f[c], 4) for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)))
    return f"$apr1${salt.decode()}${out}{to64(f[11], 2)}"


def check_password(password, hashed):
    if hashed.startswith(("$2y$", "$2a$", "$2b$")):
        import bcrypt

        return bcrypt.checkpw(password.encode(), hashed.encode())
    if hashed.startswith("$apr1$"):
        return apr1(password, hashed.split("$")[2]) == hashed
    if hashed.startswith("{SHA}"):
        return base64.b64encode(hashlib.sha1(password.encode()).digest()).decode() == hashed[5:]
    return False


# ---------------------------------------------------------------- state


class State:
    """The configuration in force and the counters behind /metrics; replaced whole on each reload."""

    def __init__(self, static, static_path):
        self.static = static
        self.static_path = static_path
        self.lock = threading.Lock()
        self.routers = []
        self.services = {}
        self.middlewares = {}
        self.certificates = []
        self.dynamic_files = {}
        self.reloads = 0
        self.last_reload_success = 1
        self.last_reload_ts = time.time()
        self.requests = 0
        self.counters = {}
        self.histograms = {}
        self.open_connections = {}
        self.rr = {}
        self.provider_file = ci(ci(static, "providers", {}), "file")
        self.unemulated_logged = set()

    # --- dynamic configuration

    def dynamic_paths(self):
        if not isinstance(self.provider_file, dict):
            return []
        filename = ci(self.provider_file, "filename")
        directory = ci(self.provider_file, "directory")
        if filename:
            return [filename]
        if directory:
            return sorted(p for ext in ("yml", "yaml", "toml") for p in glob.glob(os.path.join(directory, "**", f"*.{ext}"), recursive=True))
        return []

    def mtimes(self):
        out = {}
        for p in self.dynamic_paths():
            try:
                out[p] = os.stat(p).st_mtime_ns
            except OSError:
                pass
        return out

    def reload(self, initial=False):
        files = self.mtimes()
        routers, services, middlewares, certificates = [], {}, {}, []
        try:
            for path in files:
                doc = load_file(path) or {}
                http_conf = ci(doc, "http", {}) or {}
                for name, r in (ci(http_conf, "routers", {}) or {}).items():
                    routers.append(self.router(name, r))
                for name, s in (ci(http_conf, "services", {}) or {}).items():
                    services[f"{name}@file"] = s
                for name, m in (ci(http_conf, "middlewares", {}) or {}).items():
                    middlewares[f"{name}@file"] = m
                for c in ci(ci(doc, "tls", {}) or {}, "certificates", []) or []:
                    certificates.append((ci(c, "certFile"), ci(c, "keyFile")))
        except (OSError, yaml.YAMLError, tomllib.TOMLDecodeError, RuleError, TypeError, AttributeError) as err:
            self.last_reload_success = 0
            log(f'level=error msg="Error while building configuration (keeping the previous one)" error="{err}"')
            self.dynamic_files = files
            return
        routers += self.internal_routers()
        routers.sort(key=lambda r: (-r["priority"], r["name"]))
        with self.lock:
            self.routers, self.services, self.middlewares, self.certificates = routers, services, middlewares, certificates
            self.dynamic_files = files
            self.last_reload_success = 1
            self.last_reload_ts = time.time()
            if not initial:
                self.reloads += 1
        log(f"configuration {'loaded' if initial else 'reloaded'}: {len(routers)} routers, {len(services)} services, {len(middlewares)} middlewares from {len(files)} file(s)")

    def router(self, name, r, provider="file"):
        rule = ci(r, "rule", "")
        service = ci(r, "service", "")
        tls = ci(r, "tls")
        if isinstance(tls, dict) and ci(tls, "certResolver"):
            self.once(f"acme:{name}", f"router {name}: certResolver {ci(tls, 'certResolver')} is not emulated (no ACME); the default certificate is served")
        return {
            "name": f"{name}@{provider}",
            "rule": rule,
            "match": compile_rule(rule),
            "service": service if "@" in service else f"{service}@{provider}",
            "entryPoints": ci(r, "entryPoints") or None,
            "middlewares": [m if "@" in m else f"{m}@{provider}" for m in (ci(r, "middlewares") or [])],
            "priority": int(ci(r, "priority") or len(rule)),
            "tls": tls is not None,
        }

    def internal_routers(self):
        out = []
        api = ci(self.static, "api")
        if api is not None and str(ci(api or {}, "insecure", False)).lower() == "true":
            out.append(self.router("api", {"rule": "PathPrefix(`/api`) || PathPrefix(`/dashboard`)", "service": "api@internal", "entryPoints": ["traefik"], "priority": 2147483646}, "internal"))
        ping = ci(self.static, "ping")
        if ping is not None:
            ep = ci(ping or {}, "entryPoint", "traefik")
            out.append(self.router("ping", {"rule": "PathPrefix(`/ping`)", "service": "ping@internal", "entryPoints": [ep], "priority": 2147483647}, "internal"))
        prom = ci(ci(self.static, "metrics", {}) or {}, "prometheus")
        if prom is not None and not str(ci(prom or {}, "manualRouting", False)).lower() == "true":
            ep = ci(prom or {}, "entryPoint", "traefik")
            out.append(self.router("prometheus", {"rule": "PathPrefix(`/metrics`)", "service": "prometheus@internal", "entryPoints": [ep], "priority": 2147483647}, "internal"))
        return out

    def once(self, key, message):
        if key not in self.unemulated_logged:
            self.unemulated_logged.add(key)
            log(message)

    def watch(self):
        while True:
            time.sleep(1)
            if self.mtimes() != self.dynamic_files:
                self.reload()

    # --- metrics

    def count(self, name, labels, value=1):
        key = (name, tuple(sorted(labels.items())))
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + value

    def observe(self, name, labels, seconds):
        key = (name, tuple(sorted(labels.items())))
        with self.lock:
            h = self.histograms.setdefault(key, [0] * len(BUCKETS) + [0, 0.0])
            for i, b in enumerate(BUCKETS):
                if seconds <= b:
                    h[i] += 1
            h[-2] += 1
            h[-1] += seconds

    def metrics(self):
        def fmt(labels):
            return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else ""

        lines = [
            "# HELP traefik_config_reloads_total Config reloads",
            "# TYPE traefik_config_reloads_total counter",
            f"traefik_config_reloads_total {self.reloads}",
            "# HELP traefik_config_last_reload_success Last config reload success",
            "# TYPE traefik_config_last_reload_success gauge",
            f"traefik_config_last_reload_success {self.last_reload_success}",
            "# HELP traefik_open_connections How many open connections exist, by entryPoint and protocol",
            "# TYPE traefik_open_connections gauge",
        ]
        with self.lock:
            for ep, n in sorted(self.open_connections.items()):
                lines.append(f'traefik_open_connections{{entrypoint="{ep}",protocol="TCP"}} {n}')
            seen = set()
            for (name, labels), value in sorted(self.counters.items()):
                if name not in seen:
                    seen.add(name)
                    lines += [f"# HELP {name} How many HTTP requests processed", f"# TYPE {name} counter"]
                lines.append(f"{name}{fmt(labels)} {value}")
            seen = set()
            for (name, labels), h in sorted(self.histograms.items()):
                if name not in seen:
                    seen.add(name)
                    lines += [f"# HELP {name} How long it took to process the request", f"# TYPE {name} histogram"]
                for i, b in enumerate(BUCKETS):
                    lines.append(f"{name}_bucket{fmt(labels + (('le', str(b)),))} {h[i]}")
                lines.append(f"{name}_bucket{fmt(labels + (('le', '+Inf'),))} {h[-2]}")
                lines.append(f"{name}_sum{fmt(labels)} {h[-1]}")
                lines.append(f"{name}_count{fmt(labels)} {h[-2]}")
            certs = [DEFAULT_CERT] + list(self.certificates)
        lines += ["# HELP traefik_tls_certs_not_after Certificate expiration timestamp", "# TYPE traefik_tls_certs_not_after gauge"]
        for cert, _key in certs:
            try:
                info = ssl._ssl._test_decode_cert(cert)  # the stdlib's own PEM decoder; no extra package
            except (OSError, ssl.SSLError):
                continue
            cn = dict(x[0] for x in info.get("subject", ())).get("commonName", "")
            sans = ",".join(v for _k, v in info.get("subjectAltName", ()))
            not_after = int(ssl.cert_time_to_seconds(info["notAfter"]))
            lines.append(f'traefik_tls_certs_not_after{{cn="{cn}",sans="{sans}",serial="{info.get("serialNumber", "")}"}} {not_after}')
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTTP


class EntryPointServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state, name, address, redirect):
        self.state, self.entrypoint, self.redirect = state, name, redirect
        self.port = address[1]
        super().__init__(address, Proxy)

    def finish_request(self, request, client_address):
        """TLS when the client's first byte is a handshake, plain HTTP otherwise, as Traefik does."""
        with self.state.lock:
            self.state.open_connections[self.entrypoint] = self.state.open_connections.get(self.entrypoint, 0) + 1
        try:
            request.settimeout(30)
            first = request.recv(1, socket.MSG_PEEK)
            if first == b"\x16":
                request = tls_context(self.state).wrap_socket(request, server_side=True)
            request.settimeout(None)
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError) as err:
            log(f"entry point {self.entrypoint}: connection from {client_address[0]}: {err}")
        finally:
            with self.state.lock:
                self.state.open_connections[self.entrypoint] -= 1


def tls_context(state):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*DEFAULT_CERT)
    by_name = {}
    for cert, key in state.certificates:
        try:
            info = ssl._ssl._test_decode_cert(cert)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as err:
            state.once(f"cert:{cert}", f"certificate {cert}: {err}")
            continue
        for _k, v in info.get("subjectAltName", ()):
            by_name[v.lower()] = ctx

    def pick(sock, server_name, _ctx):
        if server_name and server_name.lower() in by_name:
            sock.context = by_name[server_name.lower()]

    context.sni_callback = pick
    return context


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "traefik-standin"

    def log_message(self, fmt, *args):
        pass

    def do_any(self):
        started = time.time()
        state = self.server.state
        # Per request: a keep-alive connection serves several requests with one handler.
        self.backend, self.log_user = "", ""
        tls = isinstance(self.connection, ssl.SSLSocket)
        url = urllib.parse.urlsplit(self.path)
        request = {
            "host": self.headers.get("Host", ""),
            "path": url.path or "/",
            "method": self.command,
            "headers": self.headers,
            "query": urllib.parse.parse_qs(url.query),
            "client": self.client_address[0],
        }
        router, status, size, internal = None, 500, 0, False
        try:
            if self.server.redirect and not tls:
                # Traefik's entry point redirection is a router of its own to noop@internal.
                internal = True
                status, size = self.redirect_to(self.server.redirect)
                return
            with state.lock:
                routers = list(state.routers)
            for r in routers:
                if r["tls"] != tls:
                    continue
                eps = r["entryPoints"] or [ep for ep in state.entrypoints if ep != "traefik" or len(state.entrypoints) == 1]
                if self.server.entrypoint in eps and r["match"](request):
                    router = r
                    break
            if router is None:
                status, size = self.send_text(404, "404 page not found\n")
                return
            status, size = self.through_middlewares(router, request)
        finally:
            duration = time.time() - started
            self.account(router, status, duration)
            internal = internal or (router is not None and router["service"].endswith("@internal"))
            # As Traefik v3: requests to @internal services (api, dashboard, ping, metrics) are logged only with accessLog.addInternals.
            if not internal or str(ci(ci(state.static, "accessLog") or {}, "addInternals", False)).lower() == "true":
                self.access_log(router, status, size, duration)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_any

    def send_text(self, status, body, headers=None, content_type="text/plain; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status, len(data)

    def redirect_to(self, redirect):
        target_ep, scheme, permanent = redirect
        host = (self.headers.get("Host") or "").split(":")[0]
        port = self.server.state.entrypoint_ports.get(target_ep)
        netloc = host if port in (None, 443) else f"{host}:{port}"
        return self.send_text(308 if permanent else 307, "", {"Location": f"{scheme}://{netloc}{self.path}"})

    def through_middlewares(self, router, request):
        state = self.server.state
        extra_request_headers, extra_response_headers = {}, {}
        path = self.path
        for name in router["middlewares"]:
            m = state.middlewares.get(name)
            if m is None:
                return self.send_text(404, "404 page not found\n")
            basic = ci(m, "basicAuth")
            if basic is not None:
                if not self.basic_auth(basic):
                    return self.send_text(401, "401 Unauthorized\n", {"WWW-Authenticate": f'Basic realm="{ci(basic, "realm", "traefik")}"'})
                continue
            redirect = ci(m, "redirectScheme")
            if redirect is not None:
                scheme = ci(redirect, "scheme", "https")
                if (scheme == "https") != isinstance(self.connection, ssl.SSLSocket):
                    host = (self.headers.get("Host") or "").split(":")[0]
                    port = ci(redirect, "port")
                    netloc = f"{host}:{port}" if port and str(port) not in ("80", "443") else host
                    permanent = str(ci(redirect, "permanent", False)).lower() == "true"
                    return self.send_text(308 if permanent else 307, "", {"Location": f"{scheme}://{netloc}{path}"})
                continue
            strip = ci(m, "stripPrefix")
            if strip is not None:
                for prefix in ci(strip, "prefixes", []) or []:
                    if path.startswith(prefix):
                        path = "/" + path[len(prefix) :].lstrip("/")
                        break
                continue
            headers = ci(m, "headers")
            if headers is not None:
                extra_request_headers.update(ci(headers, "customRequestHeaders", {}) or {})
                extra_response_headers.update(ci(headers, "customResponseHeaders", {}) or {})
                continue
            allow = ci(m, "ipAllowList")
            if allow is not None:
                client = ipaddress.ip_address(self.client_address[0])
                if not any(client in ipaddress.ip_network(r, strict=False) for r in ci(allow, "sourceRange", []) or []):
                    return self.send_text(403, "Forbidden")
                continue
            state.once(f"mw:{name}", f"middleware {name}: {', '.join(m)} is not emulated by the stand-in; requests pass through")
        return self.to_service(router, path, extra_request_headers, extra_response_headers)

    def basic_auth(self, conf):
        users = list(ci(conf, "users", []) or [])
        users_file = ci(conf, "usersFile")
        if users_file:
            with open(users_file) as f:
                users += [line.strip() for line in f if line.strip()]
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, colon, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        if not colon:
            return False
        # Traefik's basicAuth logs the name it was given, whether or not the password matches.
        self.log_user = user
        for entry in users:
            name, _, hashed = entry.partition(":")
            if name == user and check_password(password, hashed):
                if str(ci(conf, "removeHeader", False)).lower() == "true":
                    del self.headers["Authorization"]
                return True
        return False

    def to_service(self, router, path, extra_request_headers, extra_response_headers):
        state = self.server.state
        service = router["service"]
        if service == "api@internal":
            return self.api(path)
        if service == "ping@internal":
            return self.send_text(200, "OK")
        if service == "prometheus@internal":
            return self.send_text(200, state.metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
        conf = state.services.get(service)
        lb = ci(conf, "loadBalancer") if conf else None
        servers = [ci(s, "url") for s in (ci(lb, "servers", []) or [])] if lb else []
        if not servers:
            return self.send_text(503 if conf else 404, "Service Unavailable" if conf else "404 page not found\n")
        with state.lock:
            i = state.rr.get(service, 0)
            state.rr[service] = i + 1
        target = urllib.parse.urlsplit(servers[i % len(servers)])
        self.backend = servers[i % len(servers)]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.headers.get("Content-Length") else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        pass_host = str(ci(lb, "passHostHeader", True)).lower() != "false"
        if not pass_host:
            headers["Host"] = target.netloc
        client = self.client_address[0]
        prior = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{prior}, {client}" if prior else client
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        headers["X-Forwarded-Proto"] = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        headers["X-Forwarded-Port"] = str(self.server.port)
        headers["X-Forwarded-Server"] = socket.gethostname()
        headers["X-Real-Ip"] = client
        headers.update(extra_request_headers)
        upstream_path = (target.path.rstrip("/") + path) if target.path not in ("", "/") else path
        try:
            cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
            kwargs = {"context": ssl._create_unverified_context()} if target.scheme == "https" else {}
            conn = cls(target.hostname, target.port or (443 if target.scheme == "https" else 80), timeout=30, **kwargs)
            conn.request(self.command, upstream_path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as err:
            log(f"router {router['name']}: {self.backend}: {err}")
            return self.send_text(502, "Bad Gateway")
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                self.send_header(k, v)
        for k, v in extra_response_headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        return resp.status, len(data)

    def api(self, path):
        state = self.server.state
        with state.lock:
            routers = [
                {"name": r["name"], "rule": r["rule"], "service": r["service"].split("@")[0] if r["service"].endswith("@file") else r["service"],
                 "entryPoints": r["entryPoints"] or list(state.entrypoints), "middlewares": r["middlewares"], "priority": r["priority"],
                 "tls": {} if r["tls"] else None, "status": "enabled", "provider": r["name"].split("@")[1]}
                for r in state.routers
            ]
            services = [{"name": n, "loadBalancer": ci(s, "loadBalancer"), "status": "enabled", "provider": "file"} for n, s in state.services.items()]
            middlewares = [{"name": n, **m, "status": "enabled", "provider": "file"} for n, m in state.middlewares.items()]
        if path.startswith("/dashboard"):
            return self.send_text(200, "<!doctype html><title>Traefik (hostform stand-in)</title><h1>hostform stand-in for the Traefik dashboard</h1>", content_type="text/html")
        answers = {
            "/api/version": {"Version": VERSION, "Codename": "hostform-standin", "standin": True},
            "/api/http/routers": routers,
            "/api/http/services": services,
            "/api/http/middlewares": middlewares,
            "/api/entrypoints": [{"name": n, "address": f":{p}"} for n, p in state.entrypoint_ports.items()],
            "/api/overview": {"http": {"routers": {"total": len(routers)}, "services": {"total": len(services)}, "middlewares": {"total": len(middlewares)}}},
            "/api/rawdata": {"routers": {r["name"]: r for r in routers}, "services": {s["name"]: s for s in services}},
        }
        if path.rstrip("/") in answers:
            data = json.dumps(answers[path.rstrip("/")], indent=2) + "\n"
            return self.send_text(200, data, content_type="application/json")
        return self.send_text(404, "404 page not found\n")

    def account(self, router, status, duration):
        state = self.server.state
        base = {"code": str(status), "method": self.command, "protocol": "http"}
        state.count("traefik_entrypoint_requests_total", {**base, "entrypoint": self.server.entrypoint})
        state.observe("traefik_entrypoint_request_duration_seconds", {**base, "entrypoint": self.server.entrypoint}, duration)
        if router and not router["service"].endswith("@internal"):
            state.count("traefik_router_requests_total", {**base, "router": router["name"], "service": router["service"]})
            state.count("traefik_service_requests_total", {**base, "service": router["service"]})
            state.observe("traefik_service_request_duration_seconds", {**base, "service": router["service"]}, duration)

    def access_log(self, router, status, size, duration):
        """One line in Traefik's common log format or its json, with accessLog.fields applied as Traefik v3
        applies them: every field kept unless fields.defaultMode or fields.names drops it (a dropped field is
        "-" in the common format), request headers dropped unless fields.headers keeps or redacts them
        (so Referer and User-Agent are "-" by default, as Traefik writes them)."""
        state = self.server.state
        conf = ci(state.static, "accessLog")
        if conf is None:
            return
        conf = conf or {}
        with state.lock:
            state.requests += 1
            count = state.requests
        now = time.gmtime()
        core = {
            "ClientHost": self.client_address[0],
            "ClientUsername": self.log_user,
            "RequestMethod": self.command,
            "RequestPath": self.path,
            "RequestProtocol": self.request_version,
            "RequestHost": self.headers.get("Host", ""),
            "DownstreamStatus": status,
            "DownstreamContentSize": size,
            "RouterName": router["name"] if router else "",
            "ServiceName": router["service"] if router else "",
            "ServiceURL": self.backend,
            "entryPointName": self.server.entrypoint,
            "Duration": int(duration * 1e9),
            "StartUTC": time.strftime("%Y-%m-%dT%H:%M:%SZ", now),
            "RequestCount": count,
        }
        fields = ci(conf, "fields", {}) or {}
        default_keep = str(ci(fields, "defaultMode", "keep")).lower() != "drop"
        names = ci(fields, "names", {}) or {}
        kept = {k: v for k, v in core.items() if str(ci(names, k, "keep" if default_keep else "drop")).lower() != "drop"}
        headers = ci(fields, "headers", {}) or {}
        header_names = ci(headers, "names", {}) or {}
        for k, v in self.headers.items():
            canonical = "-".join(part.capitalize() for part in k.split("-"))
            mode = str(ci(header_names, canonical, ci(headers, "defaultMode", "drop"))).lower()
            if mode in ("keep", "redact"):
                kept[f"request_{canonical}"] = v if mode == "keep" else "REDACTED"

        def clf(key, quoted=False):
            value = kept.get(key)
            if value is None or value == "":
                return '"-"' if quoted else "-"
            return f'"{value}"' if quoted else str(value)

        if str(ci(conf, "format", "common")).lower() == "json":
            line = json.dumps({**kept, "level": "info", "msg": "", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)}, sort_keys=True)
        else:
            ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", now) if "StartUTC" in kept else "-"
            line = (f'{clf("ClientHost")} - {clf("ClientUsername")} [{ts}] "{clf("RequestMethod")} {clf("RequestPath")} {clf("RequestProtocol")}" '
                    f'{clf("DownstreamStatus")} {clf("DownstreamContentSize")} {clf("request_Referer", True)} {clf("request_User-Agent", True)} '
                    f'{clf("RequestCount")} {clf("RouterName", True)} {clf("ServiceURL", True)} {int(duration * 1000)}ms')
        path = ci(conf, "filePath")
        with state.lock:
            if path:
                with open(path, "a") as f:
                    f.write(line + "\n")
            else:
                print(line, flush=True)


# ---------------------------------------------------------------- commands


def run(args):
    exit_on_signals(NAME)
    static, static_path = static_config(args)
    log_conf = ci(static, "log", {}) or {}
    log(f"Traefik version {VERSION} built on hostform (a stand-in, NOT Traefik); static configuration {static_path or 'from flags'}")
    if ci(log_conf, "filePath"):
        sys.stderr = open(ci(log_conf, "filePath"), "a", buffering=1)
    state = State(static, static_path)
    eps = {name: parse_address(ci(ep, "address", "")) for name, ep in (ci(static, "entryPoints", {}) or {}).items()}
    if not eps:
        eps = {"http": ("0.0.0.0", 80)}
    uses_traefik_ep = (
        str(ci(ci(static, "api", {}) or {}, "insecure", False)).lower() == "true"
        or (ci(static, "ping") is not None and ci(ci(static, "ping") or {}, "entryPoint", "traefik") == "traefik")
        or (ci(ci(static, "metrics", {}) or {}, "prometheus") is not None and ci(ci(ci(static, "metrics", {}), "prometheus") or {}, "entryPoint", "traefik") == "traefik")
    )
    if uses_traefik_ep and "traefik" not in eps:
        eps["traefik"] = ("0.0.0.0", 8080)
    state.entrypoints = list(eps)
    state.entrypoint_ports = {n: a[1] for n, a in eps.items()}
    for name, ep in (ci(static, "entryPoints", {}) or {}).items():
        if ci(ep, "asDefault") is not None:
            state.once(f"asdefault:{name}", f"entry point {name}: asDefault is read; routers without entryPoints use every entry point but traefik")
    for resolver in (ci(static, "certificatesResolvers", {}) or {}):
        log(f"certificate resolver {resolver}: ACME is not emulated by the stand-in; no certificate will be requested")
    if ci(ci(static, "providers", {}) or {}, "docker") is not None:
        log("provider docker: not emulated by the stand-in (file provider only)")
    state.reload(initial=True)
    if str(ci(state.provider_file or {}, "watch", True)).lower() != "false":
        threading.Thread(target=state.watch, daemon=True).start()
    servers = []
    for name, address in eps.items():
        redirections = ci(ci(ci((ci(static, "entryPoints", {}) or {}).get(name, {}), "http", {}) or {}, "redirections", {}) or {}, "entryPoint")
        redirect = None
        if redirections:
            redirect = (ci(redirections, "to"), ci(redirections, "scheme", "https"), str(ci(redirections, "permanent", True)).lower() == "true")
        servers.append(EntryPointServer(state, name, address, redirect))
        log(f"entry point {name} listening on {address[0]}:{address[1]}")
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


def healthcheck(args):
    static, _ = static_config(args)
    ping = ci(static, "ping")
    if ping is None:
        print("Please enable `ping` to use health check", file=sys.stderr)
        return 1
    ep = ci(ping or {}, "entryPoint", "traefik")
    address = ci((ci(static, "entryPoints", {}) or {}).get(ep, {}), "address", ":8080")
    _, port = parse_address(address)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/ping")
        ok = conn.getresponse().status == 200
    except OSError as err:
        print(f"Error calling healthcheck: {err}", file=sys.stderr)
        return 1
    print("OK: http://:%d/ping" % port if ok else "Bad healthcheck status")
    return 0 if ok else 1


def main(argv):
    if argv and argv[0] == "version":
        print(f"Version:      {VERSION}\nCodename:     hostform-standin\nGo version:   none (a Python stand-in, NOT Traefik)")
        return 0
    if argv and argv[0] == "healthcheck":
        return healthcheck(argv[1:])
    if argv and argv[0] in ("--help", "-h", "help"):
        print("hostform stand-in for Traefik v3 (NOT Traefik). Commands: version, healthcheck; flags: --configFile=PATH, --a.b.c=value")
        return 0
    run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""hostform stand-in for Grafana. This is NOT Grafana.

What it does, as Grafana would:
- configuration from grafana.ini (GF_PATHS_CONFIG; $__env{} and $__file{} expansions) and GF_<SECTION>_<KEY>
  environment variables, each with a __FILE variant read from a file (secrets);
- a SQLite database in the data directory (grafana.db) whose admin user is created at the first start with
  [security] admin_user / admin_password; later starts keep the stored password, as Grafana does
  (`grafana cli admin reset-admin-password NEW` changes it);
- provisioning at start from GF_PATHS_PROVISIONING: datasources/*.yaml (with $VAR expansion; refused, and
  Grafana exits, when two are default or one has no name) and dashboards/*.yaml providers whose JSON files
  are loaded; POST /api/admin/provisioning/{datasources,dashboards}/reload re-reads them;
- HTTP on [server] http_port (3000): /api/health without login; with the admin's basic auth
  /api/datasources, /api/datasources/uid/UID, /api/datasources/name/NAME, /api/search, /api/dashboards/uid/UID,
  /api/user; /metrics in Prometheus text format.

Not done: dashboards are not rendered, queries are not run (no datasource is ever contacted), alerting
provisioning files are only listed, and there is no UI. GET /api/hostform-standin/provisioning reports
everything read, for tests.
"""

import configparser
import glob
import hashlib
import json
import os
import re
import secrets
import sqlite3
import sys
import base64

import yaml

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import Handler, exit_on_signals, log as standin_log, serve  # noqa: E402

VERSION = "12.0.2"
NAME = "grafana"


def log(message):
    standin_log(NAME, message)


def expand(value):
    value = re.sub(r"\$__env\{([^}]*)\}", lambda m: os.environ.get(m.group(1), ""), value)
    return re.sub(r"\$__file\{([^}]*)\}", lambda m: open(m.group(1)).read().strip(), value)


def setting(ini, section, key, default):
    env = f"GF_{section.upper()}_{key.upper()}"
    if env + "__FILE" in os.environ:
        with open(os.environ[env + "__FILE"]) as f:
            return f.read().strip()
    if env in os.environ:
        return os.environ[env]
    if ini.has_option(section, key):
        return expand(ini.get(section, key))
    return default


def password_hash(password, salt):
    """Grafana's scheme: PBKDF2-HMAC-SHA256, 10000 rounds, 50 bytes, hex."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000, 50).hex()


def open_db(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "grafana.db"), check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, login TEXT UNIQUE, password TEXT, salt TEXT, is_admin INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS hostform_standin (note TEXT)")
    if not db.execute("SELECT 1 FROM hostform_standin").fetchone():
        db.execute("INSERT INTO hostform_standin VALUES ('written by the hostform stand-in for Grafana, not by Grafana')")
    db.commit()
    return db


def load_yaml_dir(path):
    out = []
    for f in sorted(glob.glob(os.path.join(path, "*.yaml")) + glob.glob(os.path.join(path, "*.yml"))):
        with open(f) as fh:
            text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: os.environ.get(m.group(1), m.group(0)), fh.read())
        out.append((f, yaml.safe_load(text) or {}))
    return out


class ProvisioningError(Exception):
    pass


def provision(root):
    datasources, dashboards, files = [], [], {}
    for path, doc in load_yaml_dir(os.path.join(root, "datasources")):
        files.setdefault("datasources", []).append(path)
        for i, ds in enumerate(doc.get("datasources") or []):
            if not ds.get("name"):
                raise ProvisioningError(f"{path}: datasource {i} has no name")
            datasources.append({
                "id": len(datasources) + 1, "uid": ds.get("uid") or hashlib.sha1(ds["name"].encode()).hexdigest()[:14],
                "orgId": ds.get("orgId", 1), "name": ds["name"], "type": ds.get("type", ""), "access": ds.get("access", "proxy"),
                "url": ds.get("url", ""), "isDefault": bool(ds.get("isDefault", False)), "jsonData": ds.get("jsonData", {}),
                "secureJsonFields": {k: True for k in (ds.get("secureJsonData") or {})}, "readOnly": not ds.get("editable", False),
            })
        for gone in doc.get("deleteDatasources") or []:
            datasources = [d for d in datasources if d["name"] != gone.get("name")]
    if sum(1 for d in datasources if d["isDefault"]) > 1:
        raise ProvisioningError("datasource.yaml config is invalid. Only one datasource per organization can be marked as default")
    for path, doc in load_yaml_dir(os.path.join(root, "dashboards")):
        files.setdefault("dashboards", []).append(path)
        for provider in doc.get("providers") or []:
            folder_path = (provider.get("options") or {}).get("path")
            if not folder_path:
                raise ProvisioningError(f"{path}: provider {provider.get('name')} has no options.path")
            for f in sorted(glob.glob(os.path.join(folder_path, "**", "*.json"), recursive=True)):
                with open(f) as fh:
                    try:
                        board = json.load(fh)
                    except json.JSONDecodeError as err:
                        log(f"failed to load dashboard {f}: {err}")
                        continue
                board = board.get("dashboard", board)
                dashboards.append({"uid": board.get("uid") or hashlib.sha1(f.encode()).hexdigest()[:14], "title": board.get("title", ""),
                                   "folderTitle": provider.get("folder", ""), "provider": provider.get("name", ""), "file": f, "dashboard": board})
    for kind in ("alerting", "plugins", "notifiers"):
        found = sorted(glob.glob(os.path.join(root, kind, "*.y*ml")))
        if found:
            files[kind] = found
    return {"datasources": datasources, "dashboards": dashboards, "files": files}


class Grafana(Handler):
    STANDIN = NAME

    def authorized(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            login, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        row = self.server_state["db"].execute("SELECT password, salt FROM user WHERE login = ?", (login,)).fetchone()
        return bool(row) and secrets.compare_digest(row[0], password_hash(password, row[1]))

    def do_GET(self):
        state = self.server_state
        path = self.path.split("?")[0].rstrip("/") or "/"
        if path == "/api/health":
            return self.reply_json(200, {"commit": "hostform-standin", "database": "ok", "version": VERSION})
        if path == "/metrics":
            body = (f'# HELP grafana_build_info A metric with a constant 1 value labeled by version\n# TYPE grafana_build_info gauge\n'
                    f'grafana_build_info{{edition="oss",version="{VERSION}"}} 1\n'
                    f'# HELP grafana_stat_totals_dashboard total amount of dashboards\n# TYPE grafana_stat_totals_dashboard gauge\n'
                    f'grafana_stat_totals_dashboard {len(state["provisioned"]["dashboards"])}\n'
                    f'# HELP grafana_stat_totals_datasource total amount of datasources\n# TYPE grafana_stat_totals_datasource gauge\n'
                    f'grafana_stat_totals_datasource{{plugin_id="all"}} {len(state["provisioned"]["datasources"])}\n')
            return self.reply(200, body, "text/plain; version=0.0.4; charset=utf-8")
        if path in ("/", "/login"):
            return self.reply(200, "<!doctype html><title>Grafana (hostform stand-in)</title><h1>hostform stand-in for Grafana</h1>", "text/html")
        if not path.startswith("/api/"):
            return self.reply(404, "Not found")
        if not self.authorized():
            return self.reply_json(401, {"message": "Unauthorized"})
        prov = state["provisioned"]
        if path == "/api/datasources":
            return self.reply_json(200, prov["datasources"])
        for prefix, key in (("/api/datasources/uid/", "uid"), ("/api/datasources/name/", "name")):
            if path.startswith(prefix):
                found = [d for d in prov["datasources"] if d[key] == path[len(prefix):]]
                return self.reply_json(200, found[0]) if found else self.reply_json(404, {"message": "Data source not found"})
        if path == "/api/search":
            return self.reply_json(200, [{"uid": d["uid"], "title": d["title"], "type": "dash-db", "folderTitle": d["folderTitle"]} for d in prov["dashboards"]])
        if path.startswith("/api/dashboards/uid/"):
            found = [d for d in prov["dashboards"] if d["uid"] == path[len("/api/dashboards/uid/"):]]
            if not found:
                return self.reply_json(404, {"message": "Dashboard not found"})
            return self.reply_json(200, {"dashboard": found[0]["dashboard"], "meta": {"provisioned": True, "provisionedExternalId": found[0]["file"], "folderTitle": found[0]["folderTitle"]}})
        if path == "/api/user":
            return self.reply_json(200, {"login": state["admin_user"], "isGrafanaAdmin": True})
        if path == "/api/hostform-standin/provisioning":
            return self.reply_json(200, {"standin": True, **prov, "dashboards": [{k: v for k, v in d.items() if k != "dashboard"} for d in prov["dashboards"]]})
        return self.reply_json(404, {"message": "Not found"})

    def do_POST(self):
        path = self.path.split("?")[0].rstrip("/")
        self.read_body()
        if not self.authorized():
            return self.reply_json(401, {"message": "Unauthorized"})
        if path in ("/api/admin/provisioning/datasources/reload", "/api/admin/provisioning/dashboards/reload"):
            try:
                self.server_state["provisioned"] = provision(self.server_state["provisioning"])
            except (ProvisioningError, OSError, yaml.YAMLError) as err:
                return self.reply_json(500, {"message": str(err)})
            return self.reply_json(200, {"message": "Provisioning reloaded"})
        return self.reply_json(404, {"message": "Not found"})


def paths():
    ini = configparser.ConfigParser(interpolation=None)
    config_path = os.environ.get("GF_PATHS_CONFIG", "/etc/grafana/grafana.ini")
    if os.path.exists(config_path):
        ini.read(config_path)
    return ini, setting(ini, "paths", "data", "/var/lib/grafana"), setting(ini, "paths", "provisioning", "/etc/grafana/provisioning")


def server():
    exit_on_signals(NAME)
    ini, data, provisioning = paths()
    os.makedirs(data, exist_ok=True)
    db = open_db(data)
    admin_user = setting(ini, "security", "admin_user", "admin")
    if not db.execute("SELECT 1 FROM user WHERE login = ?", (admin_user,)).fetchone():
        salt = secrets.token_hex(5)
        db.execute("INSERT INTO user (login, password, salt, is_admin) VALUES (?, ?, ?, 1)",
                   (admin_user, password_hash(setting(ini, "security", "admin_password", "admin"), salt), salt))
        db.commit()
        log(f"created admin user {admin_user} in {data}/grafana.db")
    try:
        provisioned = provision(provisioning)
    except (ProvisioningError, OSError, yaml.YAMLError) as err:
        log(f'level=error msg="Failed to start grafana. error: Datasource provisioning error: {err}"')
        return 1
    log(f"provisioned {len(provisioned['datasources'])} datasources and {len(provisioned['dashboards'])} dashboards from {provisioning}")
    Grafana.server_state = {"db": db, "admin_user": admin_user, "provisioned": provisioned, "provisioning": provisioning}
    serve(Grafana, int(setting(ini, "server", "http_port", "3000")), setting(ini, "server", "http_addr", "") or "0.0.0.0")
    return 0


def cli(args):
    if args[:2] == ["admin", "reset-admin-password"] and len(args) == 3:
        ini, data, _ = paths()
        db = open_db(data)
        salt = secrets.token_hex(5)
        db.execute("UPDATE user SET password = ?, salt = ? WHERE login = ?", (password_hash(args[2], salt), salt, setting(ini, "security", "admin_user", "admin")))
        db.commit()
        print("Admin password changed successfully ✔")
        return 0
    print("hostform stand-in for Grafana: only `grafana cli admin reset-admin-password NEW` is emulated", file=sys.stderr)
    return 1


def main(argv):
    if argv and argv[0] == "cli":
        return cli([a for a in argv[1:] if not a.startswith("--")])
    if argv and argv[0] in ("-v", "--version", "-V"):
        print(f"grafana version {VERSION} (hostform stand-in, NOT Grafana)")
        return 0
    return server()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

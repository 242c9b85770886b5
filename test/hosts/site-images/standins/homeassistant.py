#!/usr/bin/python3
"""hostform stand-in for Home Assistant. This is NOT Home Assistant.

What it does, as Home Assistant would:
- keeps its state in the configuration directory (--config, /config in the image): on the first start it
  writes configuration.yaml, automations.yaml, scripts.yaml, scenes.yaml, secrets.yaml, .HA_VERSION and
  .storage/core.uuid; it reads configuration.yaml (with !include, !secret and friends) on every start;
- records to a real SQLite database, home-assistant_v2.db (the recorder's file name): a homeassistant_start
  event per start, so the data grows like the real thing's;
- serves HTTP on http.server_port (8123): the front page, /manifest.json and /auth/providers without login,
  /api/ answering 401 without a token; and refuses (400) a request carrying X-Forwarded-For unless
  http.use_x_forwarded_for is on and the peer is in http.trusted_proxies, as Home Assistant does behind a
  reverse proxy that is not configured for it.

Not done: integrations, automations, the frontend and the API's data. GET /api/hostform-standin/config
lists the files under the configuration directory with their sha256, for backup and restore tests.
"""

import argparse
import hashlib
import ipaddress
import os
import sqlite3
import sys
import time
import uuid

import yaml

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import Handler, exit_on_signals, log as standin_log, serve  # noqa: E402

VERSION = "2025.6.1"
NAME = "home-assistant"

DEFAULT_CONFIGURATION = """# Loads default set of integrations. Do not remove.
default_config:

# Load frontend themes from the themes folder
frontend:
  themes: !include_dir_merge_named themes

automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml
"""


def log(message):
    standin_log(NAME, message)


class Loader(yaml.SafeLoader):
    """Home Assistant's YAML tags are read as placeholders: enough to find the http: section."""


for tag in ("!include", "!include_dir_list", "!include_dir_named", "!include_dir_merge_list", "!include_dir_merge_named", "!secret", "!env_var", "!input"):
    Loader.add_constructor(tag, lambda loader, node: f"{node.tag} {loader.construct_scalar(node)}")


def first_start(config):
    os.makedirs(os.path.join(config, ".storage"), exist_ok=True)
    files = {
        "configuration.yaml": DEFAULT_CONFIGURATION,
        "automations.yaml": "[]\n",
        "scripts.yaml": "",
        "scenes.yaml": "",
        "secrets.yaml": "# Use this file to store secrets like usernames and passwords.\n",
        ".HA_VERSION": VERSION,
        ".storage/core.uuid": f'{{"version": 1, "minor_version": 1, "key": "core.uuid", "data": {{"uuid": "{uuid.uuid4().hex}"}}}}\n',
    }
    for name, text in files.items():
        path = os.path.join(config, name)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(text)
            log(f"wrote {path}")


def record_start(config):
    db = sqlite3.connect(os.path.join(config, "home-assistant_v2.db"))
    db.execute("CREATE TABLE IF NOT EXISTS events (event_id INTEGER PRIMARY KEY, event_type TEXT, time_fired_ts REAL)")
    db.execute("INSERT INTO events (event_type, time_fired_ts) VALUES ('homeassistant_start', ?)", (time.time(),))
    db.commit()
    db.close()


def file_hashes(config):
    out = {}
    for root, dirs, files in os.walk(config):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, config)
            if rel == "home-assistant_v2.db" or rel.startswith("home-assistant.log"):
                continue  # the recorder and the log change while it runs
            with open(path, "rb") as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


class HomeAssistant(Handler):
    STANDIN = NAME

    def proxy_refused(self):
        if "X-Forwarded-For" not in self.headers:
            return False
        http = self.http_conf
        peer = ipaddress.ip_address(self.client_address[0])
        trusted = [ipaddress.ip_network(n, strict=False) for n in http.get("trusted_proxies") or []]
        if http.get("use_x_forwarded_for") and any(peer in n for n in trusted):
            return False
        log(f"A request from a reverse proxy was received from {peer}, but your HTTP integration is not set-up for reverse proxies")
        self.reply(400, "400: Bad Request")
        return True

    def do_GET(self):
        if self.proxy_refused():
            return
        path = self.path.split("?")[0]
        if path == "/":
            return self.reply(200, "<!doctype html><title>Home Assistant</title><p>hostform stand-in for Home Assistant</p>", "text/html")
        if path == "/manifest.json":
            return self.reply_json(200, {"name": "Home Assistant", "short_name": "Home Assistant", "start_url": "/?homescreen=1", "display": "standalone"})
        if path == "/auth/providers":
            return self.reply_json(200, [{"name": "Home Assistant Local", "id": None, "type": "homeassistant"}])
        if path == "/api/hostform-standin/config":
            return self.reply_json(200, {"standin": True, "version": VERSION, "files": file_hashes(self.config_dir)})
        if path.startswith("/api/"):
            return self.reply(401, "401: Unauthorized")
        return self.reply(404, "404: Not Found")


def main(argv):
    parser = argparse.ArgumentParser(prog="hass", description="hostform stand-in for Home Assistant (NOT Home Assistant)")
    parser.add_argument("-c", "--config", default="/config")
    parser.add_argument("--version", action="store_true")
    args, _ = parser.parse_known_args(argv)
    if args.version:
        print(f"{VERSION} (hostform stand-in, NOT Home Assistant)")
        return 0
    exit_on_signals(NAME)
    first_start(args.config)
    try:
        with open(os.path.join(args.config, "configuration.yaml")) as f:
            configuration = yaml.load(f, Loader=Loader) or {}
    except (OSError, yaml.YAMLError) as err:
        log(f"Error loading configuration.yaml: {err}; starting with the http defaults")
        configuration = {}
    record_start(args.config)
    HomeAssistant.config_dir = args.config
    HomeAssistant.http_conf = configuration.get("http") or {}
    serve(HomeAssistant, int(HomeAssistant.http_conf.get("server_port", 8123)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""hostform stand-in for Plex Media Server. This is NOT Plex.

What it does, as the pms-docker image would: serves port 32400; keeps Preferences.xml under
/config/Library/Application Support/Plex Media Server with a machine identifier made at the first start;
GET /identity answers the MediaContainer XML without login (claimed="1" once PLEX_CLAIM was given); /web
serves a page. Not done: claiming with plex.tv (no network), libraries, scanning and transcoding.
GET /hostform-standin/media lists the folders under /data (where the media libraries are mounted) and
whether /dev/dri is present, so that tests can check the NFS mounts and the device reached the container.
"""

import os
import sys
import uuid
from xml.sax.saxutils import quoteattr

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import Handler, exit_on_signals, log, serve  # noqa: E402

NAME = "plex"
VERSION = "1.41.5.9522-a96edc606"
SUPPORT = "/config/Library/Application Support/Plex Media Server"


def preferences():
    os.makedirs(SUPPORT, exist_ok=True)
    path = os.path.join(SUPPORT, "Preferences.xml")
    prefs = {}
    if os.path.exists(path):
        import xml.etree.ElementTree as ET

        prefs = dict(ET.parse(path).getroot().attrib)
    prefs.setdefault("ProcessedMachineIdentifier", uuid.uuid4().hex)
    if os.environ.get("PLEX_CLAIM") and "PlexOnlineToken" not in prefs:
        log(NAME, "PLEX_CLAIM given: recorded as claimed (claiming with plex.tv is not emulated)")
        prefs["PlexOnlineToken"] = "hostform-standin-" + uuid.uuid4().hex[:12]
    with open(path, "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<Preferences ' + " ".join(f"{k}={quoteattr(v)}" for k, v in prefs.items()) + "/>\n")
    return prefs


class Plex(Handler):
    STANDIN = NAME

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/identity":
            claimed = "1" if "PlexOnlineToken" in self.prefs else "0"
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="{claimed}" '
                    f'machineIdentifier="{self.prefs["ProcessedMachineIdentifier"]}" version="{VERSION}"> </MediaContainer>\n')
            return self.reply(200, body, "text/xml;charset=utf-8")
        if path.startswith("/web"):
            return self.reply(200, "<!doctype html><title>Plex (hostform stand-in)</title><p>hostform stand-in for Plex Media Server", "text/html")
        if path == "/hostform-standin/media":
            folders = sorted(d for d in os.listdir("/data")) if os.path.isdir("/data") else []
            return self.reply_json(200, {"standin": True, "data": folders, "dri": os.path.exists("/dev/dri")})
        return self.reply(401, "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>", "text/html")


if __name__ == "__main__":
    exit_on_signals(NAME)
    Plex.prefs = preferences()
    serve(Plex, 32400)

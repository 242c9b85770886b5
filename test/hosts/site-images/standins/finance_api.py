#!/usr/bin/python3
"""hostform stand-in for the owner's personal finance API (the site's `app` role runs it behind Traefik).
Not the real application: a small HTTP app with its data in a real SQLite file, so that it can be backed
up and restored like the real one.

- GET /health → {"status": "ok"} (the container's health check);
- GET /api/accounts, POST /api/accounts {"name": ..., "balance": ...} → the accounts in $DATA_DIR/finance.db;
- listens on $PORT (8000).
"""

import json
import os
import sqlite3
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from hostform_standin import Handler, exit_on_signals, serve  # noqa: E402

NAME = "finance-api"
VERSION = "1.4.0"


class FinanceApi(Handler):
    STANDIN = NAME

    def db(self):
        db = sqlite3.connect(os.path.join(os.environ.get("DATA_DIR", "/data"), "finance.db"))
        db.execute("CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance REAL NOT NULL DEFAULT 0)")
        return db

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/") or "/"
        if path == "/health":
            return self.reply_json(200, {"status": "ok", "version": VERSION})
        if path == "/":
            return self.reply_json(200, {"service": NAME, "version": VERSION, "standin": True})
        if path == "/api/accounts":
            with self.db() as db:
                rows = db.execute("SELECT id, name, balance FROM accounts ORDER BY id").fetchall()
            return self.reply_json(200, [{"id": i, "name": n, "balance": b} for i, n, b in rows])
        return self.reply_json(404, {"detail": "Not Found"})

    def do_POST(self):
        if self.path.rstrip("/") != "/api/accounts":
            return self.reply_json(404, {"detail": "Not Found"})
        try:
            body = json.loads(self.read_body() or b"{}")
            name, balance = str(body["name"]), float(body.get("balance", 0))
        except (ValueError, KeyError, TypeError):
            return self.reply_json(422, {"detail": "expected {\"name\": string, \"balance\": number}"})
        with self.db() as db:
            cur = db.execute("INSERT INTO accounts (name, balance) VALUES (?, ?)", (name, balance))
        return self.reply_json(201, {"id": cur.lastrowid, "name": name, "balance": balance})


if __name__ == "__main__":
    exit_on_signals(NAME)
    serve(FinanceApi, int(os.environ.get("PORT", "8000")))

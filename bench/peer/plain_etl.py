#!/usr/bin/python3
"""The plain-Python peer of `dataprocess run`: the pipeline the way a user writes it in an afternoon.

One Lambda-style handler: `json.load` the whole file, check and transform each record with `hmac` and the
standard library, keep the last record of each id, and upsert the rows into `dataprocess.records` with psycopg2's
`execute_values`, in one transaction. It reads the same profile file as `dataprocess run` and follows the same
rules as far as the README states them (hash, mask, redact, year, ip-prefix; email-domain, age, year, country-name,
utc, lowercase), so `make bench` can check that it loads the same rows.

What it leaves out, as such a script would: streaming (the whole document and every row sit in memory), the run
ledger, the rejects table and the replay check. Rejected records are only counted.

    /usr/bin/python3 bench/peer/plain_etl.py INPUT --profile PROFILE --key-file KEY (--dsn DSN | --dsn-stdin)

Prints one JSON line: {"records", "rejected", "duplicates", "seconds"}.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import hmac
import ipaddress
import json
import os
import re
import sys
import time
import uuid

import psycopg2
import psycopg2.extras

DDL = """
CREATE SCHEMA IF NOT EXISTS dataprocess;
CREATE TABLE IF NOT EXISTS dataprocess.records (
    dataset   text        NOT NULL,
    record_id text        NOT NULL,
    data      jsonb       NOT NULL,
    source    text        NOT NULL,
    run_id    uuid        NOT NULL,
    loaded_at timestamptz NOT NULL,
    PRIMARY KEY (dataset, record_id)
);
"""

UPSERT = """
INSERT INTO dataprocess.records (dataset, record_id, data, source, run_id, loaded_at) VALUES %s
ON CONFLICT (dataset, record_id) DO UPDATE
SET data = EXCLUDED.data, source = EXCLUDED.source, run_id = EXCLUDED.run_id, loaded_at = EXCLUDED.loaded_at
"""

# The countries in the bench's files (a user maps the codes their data has); any other code gives null.
COUNTRIES = {
    "AR": "Argentina", "AT": "Austria", "AU": "Australia", "BE": "Belgium", "BR": "Brazil", "CA": "Canada",
    "CH": "Switzerland", "CN": "China", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EG": "Egypt",
    "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom", "GR": "Greece", "IE": "Ireland",
    "IN": "India", "IT": "Italy", "JP": "Japan", "KR": "South Korea", "MX": "Mexico", "NG": "Nigeria",
    "NL": "Netherlands", "NO": "Norway", "PL": "Poland", "PT": "Portugal", "SE": "Sweden", "TR": "Türkiye",
    "US": "United States", "ZA": "South Africa",
}

DOTTED_QUAD = re.compile(r"\A(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\."
                         r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\Z")


class Reject(Exception):
    pass


def segments(path):
    return [s for s in path.replace("[*]", ".[*]").split(".") if s]


def select(node, parts):
    """Every value a path names; a missing step or [*] on a non-array names nothing."""
    if not parts:
        yield node
        return
    head, rest = parts[0], parts[1:]
    if head == "[*]":
        if isinstance(node, list):
            for item in node:
                yield from select(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from select(node[head], rest)


def find(record, path):
    node = record
    for name in path.split("."):
        if not isinstance(node, dict) or name not in node:
            return False, None
        node = node[name]
    return True, node


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_date(value):
    """A date of a common format (ISO 8601, RFC 1123) or a number (a four-digit year, else Unix seconds)."""
    if is_number(value):
        if 1000 <= value <= 9999 and float(value).is_integer():
            return datetime.datetime(int(value), 1, 1, tzinfo=datetime.timezone.utc)
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def ip_prefix(text):
    match = DOTTED_QUAD.match(text)
    if match:
        return f"{match.group(1)}.{match.group(2)}.{match.group(3)}.0/24"
    if ":" not in text or any(c in "%[]/" or c.isspace() for c in text):
        return None
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    if address.ipv4_mapped:
        a, b, c, _ = str(address.ipv4_mapped).split(".")
        return f"{a}.{b}.{c}.0/24"
    return str(ipaddress.IPv6Network(f"{address}/48", strict=False))


def mask(text):
    return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]


def refusal(method, path, value):
    if method == "redact" or value is None:
        return None
    scalar = isinstance(value, str) or is_number(value)
    if method in ("hash", "mask"):
        return None if scalar else f"field '{path}': {method} expects a string or number"
    if method == "year":
        return None if scalar and parse_date(value) is not None else f"field '{path}' is not a recognisable date"
    if method == "ip-prefix":
        return None if isinstance(value, str) and ip_prefix(value) else f"field '{path}' is not an IP address"
    raise ValueError(f"unknown method {method}")


def anonymized(method, value, key):
    if value is None:
        return None
    text = number_text(value) if is_number(value) else value
    if method == "hash":
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    if method == "mask":
        return mask(text)
    if method == "year":
        return parse_date(value).year
    if method == "ip-prefix":
        return ip_prefix(text)
    raise ValueError(f"unknown method {method}")


def apply(node, parts, method, key):
    head, last = parts[0], len(parts) == 1
    if head == "[*]":
        if not isinstance(node, list):
            return
        if last and method == "redact":
            node.clear()
            return
        for i, item in enumerate(node):
            if last:
                node[i] = anonymized(method, item, key)
            else:
                apply(item, parts[1:], method, key)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if not last:
        apply(node[head], parts[1:], method, key)
    elif method == "redact":
        del node[head]
    else:
        node[head] = anonymized(method, node[head], key)


def email_domain(text):
    at = text.strip().rfind("@")
    if at < 0:
        return None
    domain = text.strip()[at + 1:]
    labels = domain.split(".")
    valid = len(domain) <= 253 and len(labels) >= 2 and all(
        label and all(c == "-" or c.isalnum() for c in label) for label in labels)
    return domain.lower() if valid else None


def age(born, as_of):
    if born > as_of:
        return None
    today = as_of.astimezone(datetime.timezone.utc)
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return max(0, years)


def utc(instant):
    moment = instant.astimezone(datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += ("." + f"{moment.microsecond:06d}").rstrip("0")
    return text + "Z"


def enrich(function, value, as_of):
    text = value if isinstance(value, str) else None
    if function == "email-domain":
        return email_domain(text) if text is not None else None
    if function == "country-name":
        code = text.strip().upper() if text is not None else ""
        return COUNTRIES.get(code) if len(code) == 2 and code.isascii() and code.isalpha() else None
    if function == "lowercase":
        return text.lower() if text is not None else number_text(value) if is_number(value) else None
    date = parse_date(value)
    if date is None:
        return None
    if function == "age":
        return age(date, as_of)
    if function == "year":
        return date.year
    if function == "utc":
        return utc(date)
    raise ValueError(f"unknown function {function}")


def record_id(record, path):
    found, value = find(record, path)
    if not found or value is None:
        raise Reject(f"the id '{path}' is missing or null")
    if is_number(value):
        value = number_text(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise Reject(f"the id '{path}' is not a usable string or number")
    return value


def transform(record, profile, key, as_of):
    if not isinstance(record, dict):
        raise Reject("the record is not an object")
    rid = record_id(record, profile["id"])
    for required in profile.get("require", []):
        found, value = find(record, required)
        if not found or value is None:
            raise Reject(f"the required field '{required}' is missing or null")
    rules = [(path, method, segments(path)) for path, method in profile.get("anonymize", {}).items()]
    for path, method, parts in rules:
        for value in select(record, parts):
            reason = refusal(method, path, value)
            if reason:
                raise Reject(reason)
    # Enrichment reads the raw record: compute it first, then anonymize the record in place.
    added = {}
    for name, rule in profile.get("enrich", {}).items():
        found, value = find(record, rule["from"])
        added[name] = enrich(rule["fn"], value, as_of) if found else None
    for path, method, parts in rules:
        apply(record, parts, method, key)
    record.update(added)
    return rid, record


def records_of(path, records_path):
    with open(path, encoding="utf-8-sig") as f:
        if records_path is None:
            text = f.read()
            if text.lstrip().startswith("{"):
                return [json.loads(line) for line in text.splitlines() if line.strip()]
            return json.loads(text)
        document = json.load(f)
    if records_path != "$":
        for name in records_path[2:].split("."):
            document = document[name]
    return document


def handler(event, context=None):
    started = time.monotonic()
    as_of = datetime.datetime.now(datetime.timezone.utc)
    with open(event["profile"], encoding="utf-8") as f:
        profile = json.load(f)
    with open(event["key_file"], encoding="utf-8") as f:
        key = base64.b64decode(f.read().strip())

    rows, rejected, accepted = {}, 0, 0
    for record in records_of(event["input"], profile.get("records")):
        try:
            rid, result = transform(record, profile, key, as_of)
        except Reject:
            rejected += 1
            continue
        accepted += 1
        rows[rid] = result  # the last record of an id wins

    run_id = str(uuid.uuid4())
    source = os.path.basename(event["input"])
    connection = psycopg2.connect(event["dsn"])
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(DDL)
            psycopg2.extras.execute_values(
                cursor, UPSERT,
                ((profile["dataset"], rid, json.dumps(data), source, run_id, as_of) for rid, data in rows.items()),
                template="(%s, %s, %s::jsonb, %s, %s::uuid, %s)", page_size=1000)
    finally:
        connection.close()
    return {"records": len(rows), "rejected": rejected, "duplicates": accepted - len(rows),
            "seconds": round(time.monotonic() - started, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--key-file", required=True)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--dsn", help="a libpq connection string")
    target.add_argument("--dsn-stdin", action="store_true", help="read the connection string from standard input")
    args = parser.parse_args()
    dsn = sys.stdin.readline().strip() if args.dsn_stdin else args.dsn
    summary = handler({"input": args.input, "profile": args.profile, "key_file": args.key_file, "dsn": dsn})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

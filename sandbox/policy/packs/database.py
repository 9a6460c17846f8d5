"""The database pack: DROP, TRUNCATE, DELETE/UPDATE without WHERE, dropdb, FLUSHALL."""

from __future__ import annotations

import re
from typing import Sequence

from ..context import Context
from .base import Hit, Pack, risky_rule, work_rule

RULES = {
    "db.query": work_rule("db.query", "database queries and clients that change no schema and empty no table"),
    "db.sql.drop": risky_rule(
        "db.sql.drop", "drops a database, schema, table or column, and the data in it",
        "back the data up (pg_dump, mysqldump) and let the user drop it"),
    "db.sql.truncate": risky_rule(
        "db.sql.truncate", "empties a table (TRUNCATE)", "SELECT count(*) first; back the table up"),
    "db.sql.delete_all": risky_rule(
        "db.sql.delete_all", "deletes or updates every row of a table (no WHERE clause)", "add a WHERE clause; run it in a transaction"),
    "db.dropdb": risky_rule(
        "db.dropdb", "drops a whole database (dropdb, mysqladmin drop)", "pg_dump it first and let the user drop it"),
    "db.redis.flush": risky_rule(
        "db.redis.flush", "deletes every key of a Redis database (FLUSHALL, FLUSHDB)", "redis-cli --scan to look at the keys"),
    "db.mongo.drop": risky_rule(
        "db.mongo.drop", "drops a MongoDB database or collection, or deletes every document", "count the documents first"),
}

_SQL_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_DROP = re.compile(r"\bDROP\s+(?:FOREIGN\s+|MATERIALIZED\s+)?(DATABASE|SCHEMA|TABLE|VIEW|INDEX|USER|ROLE|OWNED|EXTENSION|"
                   r"MATERIALIZED|COLLECTION|KEYSPACE|SEQUENCE|FUNCTION|PROCEDURE|TRIGGER|TYPE|TABLESPACE)\b|"
                   r"\bALTER\s+TABLE\b.*\bDROP\b", re.S)
# WHERE clauses that hold for every row.
_WHERE_ALWAYS = re.compile(r"\bWHERE\s+(?:1\s*=\s*1|TRUE|1|'' = ''|NOT\s+FALSE)\s*$")
_TRUNCATE = re.compile(r"\bTRUNCATE\b")
_DELETE = re.compile(r"\bDELETE\s+FROM\b")
_UPDATE = re.compile(r"\bUPDATE\s+\S+\s+SET\b")
_MONGO = re.compile(r"dropDatabase\s*\(|\.drop\s*\(|dropAllUsers\s*\(|dropAllRoles\s*\(|"
                    r"(deleteMany|remove)\s*\(\s*(?:\{\s*\})?\s*\)")


def classify_sql(sql: str) -> list[Hit]:
    """Hits for SQL text: the statements that destroy data."""
    text = _SQL_STRING.sub(" '' ", sql).upper()
    hits = []
    for statement in text.split(";"):
        statement = statement.strip()
        if not statement:
            continue
        if _DROP.search(statement):
            hits.append(Hit("db.sql.drop", statement[:120]))
        elif _TRUNCATE.search(statement):
            hits.append(Hit("db.sql.truncate", statement[:120]))
        elif (_DELETE.search(statement) or _UPDATE.search(statement)) and (
                not re.search(r"\bWHERE\b", statement) or _WHERE_ALWAYS.search(statement)):
            hits.append(Hit("db.sql.delete_all", statement[:120]))
    return hits


def _option_values(argv: Sequence[str], shorts: tuple[str, ...], longs: tuple[str, ...]) -> list[str]:
    out = []
    for k, word in enumerate(argv[1:], 1):
        for opt in longs:
            if word.startswith(opt + "="):
                out.append(word[len(opt) + 1:])
            elif word == opt and k + 1 < len(argv):
                out.append(argv[k + 1])
        for opt in shorts:
            if word == opt and k + 1 < len(argv):
                out.append(argv[k + 1])
            elif word.startswith(opt) and len(word) > len(opt) and not word.startswith("--"):
                out.append(word[len(opt):])
    return out


def _sql_of(argv: Sequence[str]) -> list[str]:
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("psql", "cockroach", "yugabyte", "ysqlsh"):
        return _option_values(argv, ("-c",), ("--command",)) + [w for w in argv if w.upper().startswith(("DROP ", "TRUNCATE ", "DELETE ", "UPDATE "))]
    if name in ("mysql", "mariadb"):
        return _option_values(argv, ("-e",), ("--execute",))
    if name in ("sqlite3", "sqlite", "duckdb"):
        operands = [a for a in argv[1:] if not a.startswith("-")]
        return operands[1:] + _option_values(argv, (), ("-cmd",))
    if name in ("clickhouse-client", "clickhouse"):
        return _option_values(argv, ("-q",), ("--query",))
    if name == "cqlsh":
        return _option_values(argv, ("-e",), ("--execute",))
    if name == "sqlcmd":
        return _option_values(argv, ("-Q", "-q"), ())
    return []


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    return classify_input(argv, None, ctx)


def classify_input(argv: Sequence[str], stdin: str | None, ctx: Context) -> list[Hit]:
    """Judge a client call together with the literal text fed to it (heredoc, here-string, echo |)."""
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("dropdb",):
        return [Hit("db.dropdb", " ".join(a for a in argv[1:] if not a.startswith("-")) or None)]
    if name == "mysqladmin":
        words = [a.lower() for a in argv[1:]]
        if "drop" in words:
            return [Hit("db.dropdb", " ".join(argv[1:]))]
        return [Hit("db.query")]
    if name == "redis-cli":
        words = [a.upper() for a in argv[1:]] + (stdin or "").upper().split()
        if "FLUSHALL" in words or "FLUSHDB" in words:
            return [Hit("db.redis.flush")]
        if "SHUTDOWN" in words and "NOSAVE" in words:
            return [Hit("db.redis.flush", "SHUTDOWN NOSAVE drops what was not saved")]
        return [Hit("db.query")]
    if name == "pg_restore" and any(a in ("-c", "--clean") or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]) for a in argv[1:]):
        return [Hit("db.sql.drop", "pg_restore --clean drops the objects before recreating them")]
    if name == "mongorestore" and "--drop" in argv:
        return [Hit("db.mongo.drop", "mongorestore --drop")]
    if name in ("pg_restore", "mongorestore"):
        return [Hit("db.query")]
    if name in ("mongo", "mongosh"):
        code = " ".join(_option_values(argv, (), ("--eval",))) + " " + (stdin or "")
        if _MONGO.search(code):
            return [Hit("db.mongo.drop")]
        return [Hit("db.query")]
    texts = _sql_of(argv) + ([stdin] if stdin else [])
    hits = [hit for text in texts for hit in classify_sql(text)]
    return hits or [Hit("db.query")]


PACK = Pack(
    name="database",
    description="psql, mysql, sqlite3 and friends with DROP, TRUNCATE, DELETE without WHERE; dropdb; redis-cli FLUSHALL/FLUSHDB",
    commands=frozenset({"psql", "mysql", "mariadb", "sqlite3", "sqlite", "duckdb", "dropdb", "mysqladmin",
                        "redis-cli", "mongo", "mongosh", "clickhouse-client", "cockroach", "ysqlsh", "cqlsh", "sqlcmd",
                        "pg_restore", "mongorestore"}),
    rules=RULES,
    classify=classify,
)

"""Who may do what in a team store: three PostgreSQL roles and their grants (an SQLite file has no roles).

People log in as themselves and are members of one role (`CREATE ROLE ana LOGIN IN ROLE xlar_specialist`):

- `xlar_specialist` imports remittances, writes notes, opens and changes appeals, records statements, placements
  and agency payments, takes worklist claims, and reads what the worklist needs. It cannot change or delete a
  stored payment or audit event, read or write the report snapshots, or change the schema.
- `xlar_manager` is a specialist who also reads and saves the management report's snapshots (`xl-ar report`).
- `xlar_admin` owns the tables: it migrates the schema (`xl-ar store migrate`) and grants the others.

What is refused is refused by the server, not by xl-ar: the grants below are the whole rule. `meta` holds the
schema version and the audit trail's head: row-level security lets the other roles write only the head. An
audit event's database user is filled by the server (the column's default); the other roles may not insert it.

`setup_sql` makes the roles (once per server), `grants_sql` grants them on one database's store; the store
applies the grants again after each migration, so a table a new schema step adds is covered (a test checks that
every table of the schema is listed in `TABLE_GRANTS`).
"""

from __future__ import annotations

ROLES = {"specialist": "xlar_specialist", "manager": "xlar_manager", "admin": "xlar_admin"}
"""The roles by their name in xl-ar, and the PostgreSQL role each maps to."""

SPECIALIST, MANAGER, ADMIN = ROLES["specialist"], ROLES["manager"], ROLES["admin"]

_AUDIT_WRITTEN = "at, actor, action, detail, result, message, prev_hash, event_hash"
"""The audit event columns a client writes (not `event_id`, a sequence, nor `db_user`, the server's)."""

TABLE_GRANTS: dict[str, dict[str, str]] = {
    # the schema version and the audit head (row-level security: only the head is written by the other roles)
    "meta": {SPECIALIST: "SELECT, INSERT, UPDATE"},
    # imported remittances: added, never changed (an import counts its payments afterwards)
    "imports": {SPECIALIST: "SELECT, INSERT, UPDATE (payments, duplicates)"},
    "payments": {SPECIALIST: "SELECT, INSERT"},
    "claim_payments": {SPECIALIST: "SELECT, INSERT"},
    "line_payments": {SPECIALIST: "SELECT, INSERT"},
    "adjustments": {SPECIALIST: "SELECT, INSERT"},
    "remarks": {SPECIALIST: "SELECT, INSERT"},
    "provider_adjustments": {SPECIALIST: "SELECT, INSERT"},
    "duplicate_payments": {SPECIALIST: "SELECT, INSERT"},
    # the audit trail: appended, never changed
    "audit_events": {SPECIALIST: f"SELECT, INSERT ({_AUDIT_WRITTEN})"},
    # follow-up
    "notes": {SPECIALIST: "SELECT, INSERT"},
    "appeals": {SPECIALIST: "SELECT, INSERT, UPDATE"},
    "statements": {SPECIALIST: "SELECT, INSERT"},
    "placements": {SPECIALIST: "SELECT, INSERT"},
    "agency_payments": {SPECIALIST: "SELECT, INSERT"},
    "assignments": {SPECIALIST: "SELECT, INSERT, UPDATE"},
    # the management report's figures by date (its trend)
    "snapshots": {MANAGER: "SELECT, INSERT"},
}
"""Privileges per table and role (a manager also has the specialist's, an admin owns everything)."""


def setup_sql() -> list[str]:
    """Make the three roles when missing (no login; membership chains them: a manager is a specialist, an admin a
    manager). Run by a superuser or a role with CREATEROLE; safe to run again."""
    chain = [(SPECIALIST, None), (MANAGER, SPECIALIST), (ADMIN, MANAGER)]
    return [f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} NOLOGIN{f' IN ROLE {member_of}' if member_of else ''}; END IF; END $$"
            for role, member_of in chain]


def grants_sql(schema: str = "public") -> list[str]:
    """The grants of the store's tables in `schema`, run by their owner (`xlar_admin`): privileges revoked from
    the other roles first, then granted as `TABLE_GRANTS` says; sequences for new ids; the row policies of `meta`.
    Safe to run again."""
    schema = quoted(schema)
    others = f"{SPECIALIST}, {MANAGER}"
    sql = [f"GRANT USAGE ON SCHEMA {schema} TO {SPECIALIST}"]
    for table, by_role in TABLE_GRANTS.items():
        sql.append(f"REVOKE ALL ON {schema}.{table} FROM PUBLIC, {others}")
        sql += [f"GRANT {privileges} ON {schema}.{table} TO {role}" for role, privileges in by_role.items()]
    sql += [
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {SPECIALIST}",
        f"ALTER TABLE {schema}.meta ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS xlar_meta_read ON {schema}.meta",
        f"CREATE POLICY xlar_meta_read ON {schema}.meta FOR SELECT USING (true)",
        f"DROP POLICY IF EXISTS xlar_meta_audit_head ON {schema}.meta",
        f"CREATE POLICY xlar_meta_audit_head ON {schema}.meta FOR ALL TO {SPECIALIST} "
        "USING (key = 'audit_head') WITH CHECK (key = 'audit_head')",
    ]
    return sql


def quoted(name: str) -> str:
    """An SQL identifier (a schema's name) quoted, whatever its spelling."""
    return '"' + str(name).replace('"', '""') + '"'


def needs(message: str) -> str:
    """What to tell a person the server refused (its message, e.g. "permission denied for table snapshots"):
    which role does it."""
    if "create role" in message or "must have admin option" in message or "superuser" in message:
        return "setting up the roles (xl-ar store setup) needs a superuser or a role with CREATEROLE"
    if "snapshots" in message:
        return "the management report needs the manager role"
    if "must be owner" in message or "schema" in message:
        return "changing the schema needs the admin role (xl-ar store migrate)"
    return "ask your admin for the role that does this (docs/team-store.md lists what each role may do)"

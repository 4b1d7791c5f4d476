/**
 * The shared pool's schema, as numbered migrations applied in order by `codex-pool db migrate`
 * (never implicitly: a team's database changes when someone decides it does). Every store call
 * checks the applied version first and stops with the fix when it is behind or ahead
 * (docs/team-pool.md "Schema"). Append new migrations; never edit an applied one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "pool, accounts, sessions, refresh claims, audit",
    sql: `
create table codex_pool.pool (
  id boolean primary key default true check (id),
  version bigint not null default 0,
  default_account text,
  key_check bytea
);
insert into codex_pool.pool default values;

create table codex_pool.accounts (
  id text primary key,
  position bigint not null,
  chatgpt_account_id text not null,
  email text not null,
  doc jsonb not null,
  token_generation bigint not null,
  access_token bytea not null,
  refresh_token bytea not null,
  id_token bytea not null,
  access_expires_at timestamptz,
  last_refresh_at timestamptz,
  updated_at timestamptz not null default clock_timestamp()
);

create table codex_pool.sessions (
  host text not null,
  pid integer not null,
  account text not null,
  session_id text,
  phase text not null,
  started_at timestamptz not null,
  heartbeat_at timestamptz not null,
  expires_at timestamptz not null,
  primary key (host, pid)
);

create sequence codex_pool.fence;

create table codex_pool.refresh_claims (
  account text primary key references codex_pool.accounts (id) on delete cascade,
  fence bigint not null,
  holder text not null,
  generation bigint not null,
  claimed_at timestamptz not null,
  expires_at timestamptz not null,
  intent_sent_at timestamptz
);

create table codex_pool.audit (
  id bigserial primary key,
  at timestamptz not null default clock_timestamp(),
  db_role text not null default current_user,
  host text not null,
  pid integer not null,
  os_user text not null,
  account text,
  action text not null,
  detail jsonb
);

-- Append-only: what happened stays recorded, whoever holds the table's privileges.
create function codex_pool.audit_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'codex_pool.audit is append-only';
end $$;
create trigger audit_append_only before update or delete on codex_pool.audit
  for each row execute function codex_pool.audit_append_only();
`,
  },
  {
    version: 2,
    name: "sessions: whether a session's codex holds its account's refresh token",
    sql: `
-- Relaunch mode hands codex the account's refresh token; while its session's lease is current no
-- other machine may spend it (docs/team-pool.md "Session leases"). Rows from before: they hold it.
alter table codex_pool.sessions add column holds_refresh_token boolean not null default true;
create index sessions_account on codex_pool.sessions (account);
`,
  },
];

export const LATEST_MIGRATION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** The bookkeeping table, created by `db migrate` before the first migration. */
export const BOOKKEEPING_SQL = `
create schema if not exists codex_pool;
create table if not exists codex_pool.migrations (
  version integer primary key,
  name text not null,
  applied_at timestamptz not null default now()
);
`;

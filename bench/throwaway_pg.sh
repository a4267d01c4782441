# Sourced by the benchmarks' run scripts: a throwaway PostgreSQL 15 for one benchmark run.
#   start_throwaway_pg WORK [SETTING...]
# initdb's a cluster in WORK/data (WORK must exist and be empty of data/) and starts it on a free
# loopback port with fsync off and 256 MB of shared buffers, plus each SETTING ("name=value"). When
# run as root, PostgreSQL's binaries run as the postgres user. Sets pg_bindir, pg_port and as_pg
# (the command prefix for PostgreSQL's binaries), exports PGHOST, PGPORT and PGUSER, and installs
# an EXIT/INT/TERM trap that stops the server and removes WORK.
pg_bindir=/usr/lib/postgresql/15/bin
start_throwaway_pg() {
  local work=$1
  shift
  as_pg=()
  if [[ $(id -u) -eq 0 ]]; then as_pg=(runuser -u postgres --); chown postgres "$work"; fi
  _throwaway_pg_work=$work
  trap stop_throwaway_pg EXIT INT TERM
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local options="-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
  options+=" -c full_page_writes=off -c shared_buffers=256MB"
  local setting
  for setting in "$@"; do options+=" -c $setting"; done
  "${as_pg[@]}" "$pg_bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
  "${as_pg[@]}" "$pg_bindir/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -s -o "$options" start >/dev/null
  export PGHOST=127.0.0.1 PGPORT=$pg_port PGUSER=postgres
}
stop_throwaway_pg() {
  "${as_pg[@]}" "$pg_bindir/pg_ctl" -D "$_throwaway_pg_work/data" -m immediate -w -s stop >/dev/null 2>&1 || true
  rm -rf "$_throwaway_pg_work"
}

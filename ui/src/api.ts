// The HTTP API client (docs/api.md): JSON reads, and POSTs carrying the session's CSRF token.

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public hint?: string) {
    super(message);
  }
}

let csrfToken = "";

export const enc = encodeURIComponent;

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, "bad_response", `the server sent something that is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? "http", e?.message ?? `HTTP ${res.status}`, e?.hint);
  }
  return body as T;
}

export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  return parse<T>(res);
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parse<T>(res);
}

export interface SessionInfo {
  csrf_token?: string;
  auth_required?: boolean;
}

// Opens (or resumes) the browser session. Returns false when the server wants a token first.
export async function openSession(): Promise<boolean> {
  const res = await fetch("/api/v1/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (res.status === 401) return false;
  const info = await parse<SessionInfo>(res);
  csrfToken = info.csrf_token ?? "";
  return true;
}

export async function login(token: string): Promise<void> {
  const res = await fetch("/api/v1/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ token }),
  });
  const info = await parse<SessionInfo>(res);
  csrfToken = info.csrf_token ?? "";
}

// ---- Types of the responses (see docs/api.md) ----

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface RunSummary {
  run_id: string;
  pipeline: string;
  type: string;
  state: string;
  logical_date: string | null;
  data_interval_start?: string | null;
  data_interval_end?: string | null;
  queued_at?: string | null;
  start_at: string | null;
  end_at: string | null;
  duration_seconds?: number | null;
  params?: Record<string, Json>;
  note?: string;
}

export interface Pipeline {
  name: string;
  file: string;
  schedule: string | null;
  dataset_schedule?: string | null;
  dataset_uris?: string[];
  timezone: string;
  paused: boolean;
  next_run: string | null;
  catchup: boolean;
  max_active_runs: number;
  params: Record<string, Json>;
  task_count: number;
  active_runs: number;
  recent_runs: RunSummary[];
  description?: string;
}

export interface TaskDef {
  id: string;
  kind: string;
  group: string;
  outlets?: string[];
  command?: string;
  upstream: string[];
  downstream: string[];
  trigger_rule?: string;
  retries?: number;
}

export interface GroupDef {
  id: string;
  label: string;
  parent: string | null;
  tasks: string[];
  groups: string[];
}

export interface PipelineDetail extends Pipeline {
  tasks: TaskDef[];
  groups: GroupDef[];
  edges: { from: string; to: string }[];
}

export interface GridInstance {
  state: string;
  try_number: number;
  start_at: string | null;
  end_at: string | null;
  duration_seconds: number | null;
}

export interface GridRun extends RunSummary {
  task_instances: (GridInstance | null)[];
}

export interface Grid {
  pipeline: string;
  tasks: { id: string; group: string; kind: string }[];
  runs: GridRun[];
}

export interface TaskInstance {
  task_id: string;
  group: string;
  kind: string;
  state: string;
  try_number: number;
  max_tries: number;
  start_at: string | null;
  end_at: string | null;
  duration_seconds: number | null;
  next_retry_at: string | null;
  upstream: string[];
  downstream: string[];
  note?: string;
}

export interface Attempt {
  try_number: number;
  state: string;
  start_at: string | null;
  end_at: string | null;
  duration_seconds: number | null;
  exit_code: number | null;
  error: string | null;
  log_size: number;
}

export interface LogChunk {
  run_id: string;
  task_id: string;
  try_number: number;
  content: string;
  size: number;
  truncated: boolean;
  finished: boolean;
}

export interface Connection {
  name: string;
  file: string;
  error?: string;
  source?: { host: string; port: number; database: string };
  destination?: { schema: string; target: string };
  // Without a `streams:` list (all_tables), the streams its sync history names.
  all_tables?: boolean;
  streams?: { name: string; mode: string | null; cursor_field?: string | null }[];
  last_sync?: { run_id: string; at: string; status: string } | null;
  warnings?: string[];  // located: "connections/x.yml:7:13: warning: …"
}

export interface StreamPoint {
  run_id: string;
  at: string;
  status: string;
  rows: number | null;
  bytes: number | null;
  seconds: number | null;
  cursor: string | null;
  error: string | null;
}

export interface DbtNode {
  unique_id: string;
  name: string;
  resource_type: string;
  layer: string;
  schema?: string;
  relation?: string;
  materialized?: string;
  test_status?: string | null;
}

export interface DbtNodeDetail extends DbtNode {
  path?: string;
  raw_code?: string;
  compiled_code?: string;
  description?: string;
  columns: { name: string; description?: string; data_type?: string | null }[];
  depends_on: string[];
  referenced_by: string[];
  tests: { unique_id: string; name: string; latest: { status: string; failures: number; at: string; run_id: string } | null }[];
}

export interface TestsOverTime {
  runs: { run_id: string; at: string }[];
  tests: { name: string; model: string | null; results: { run_id: string; status: string; failures: number; message: string; at: string }[] }[];
}

export interface Preview {
  schema: string;
  relation: string;
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
  row_count: number;
}

export interface DatasetEvent {
  id: number;
  uri: string;
  timestamp: string;
  source_pipeline: string;
  source_run_id: string;
  source_task_id: string;
  extra: Record<string, Json>;
}

export interface Dataset {
  uri: string;
  producers: { pipeline: string; task: string }[];
  consumers: { pipeline: string; schedule: string | null }[];
  total_events: number;
  last_event_id: number | null;
  last_event_at: string | null;
}

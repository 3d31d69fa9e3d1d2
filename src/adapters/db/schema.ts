import type { ColumnType } from 'kysely';

/** Row types as the database stores them. JSON columns hold JSON text; timestamps are ISO strings. */
export interface Database {
  organizations: { id: string; name: string; created_at: string };
  settings: { key: string; value: string };
  api_keys: {
    id: string;
    organization_id: string;
    name: string;
    prefix: string;
    token_hash: string;
    scopes: string;
    source: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  master_keys: { version: number; fingerprint: string; created_at: string };
  secrets: {
    id: string;
    organization_id: string;
    name: string;
    description: string | null;
    ciphertext: Uint8Array;
    nonce: Uint8Array;
    key_version: number;
    allowed_hosts: string;
    created_at: string;
    updated_at: string;
  };
  /** PostgreSQL only: see migration 0002. */
  rate_limit_windows: { key: string; bucket: number; counts: number[] };
  integrations: {
    id: string;
    organization_id: string;
    name: string;
    description: string | null;
    base_url: string | null;
    secrets: string;
    auth: string | null;
    created_at: string;
    updated_at: string;
  };
  actions: {
    id: string;
    organization_id: string;
    integration_id: string | null;
    name: string;
    tool_name: string;
    kind: string;
    status: string;
    version: number;
    definition: string;
    created_at: string;
    updated_at: string;
    deleted_at: string | null;
  };
  action_versions: {
    action_id: string;
    version: number;
    definition: string;
    created_at: string;
    created_by: string | null;
  };
  executions: {
    id: string;
    organization_id: string;
    action_id: string;
    action_version: number;
    status: string;
    category: string | null;
    started_at: string;
    duration_ms: number;
    record: string;
  };
  post_call_requests: {
    execution_id: string;
    organization_id: string;
    conversation_id: string;
    action_id: string;
    action_version: number;
    inputs: string;
    context: string;
    caller_key_id: string | null;
    state: string;
    job_id: string | null;
    created_at: string;
    enqueued_at: string | null;
  };
  confirmation_requests: {
    execution_id: string;
    organization_id: string;
    action_id: string;
    action_version: number;
    inputs: string;
    context: string;
    conversation_id: string | null;
    caller_key_id: string | null;
    idempotency_key: string | null;
    state: string;
    created_at: string;
    expires_at: string;
    decided_at: string | null;
  };
  agents: {
    id: string;
    organization_id: string;
    name: string;
    instructions: string;
    channels: string;
    status: string;
    published_version: number | null;
    created_at: string;
    updated_at: string;
  };
  action_annotations: {
    action_id: string;
    namespace: string;
    organization_id: string;
    document: string;
    updated_at: string;
  };
  workflow_versions: {
    id: string;
    organization_id: string;
    workflow_id: string;
    version_number: number;
    name: string;
    description: string | null;
    trigger_type: string;
    trigger_configuration: string | null;
    trigger_constraints: string | null;
    blocks: string;
    editor_state: string | null;
    webhook_token: string | null;
    /** Assigned by the database on insert (migration 0013); PostgreSQL's bigint arrives as text. */
    serial: ColumnType<number | string, never, never>;
    active: number;
    created_by: string | null;
    created_at: string;
    updated_at: string;
    deleted_at: string | null;
  };
  workflow_tools: { workflow_id: string; organization_id: string; action_id: string };
  workflow_schedules: {
    workflow_id: string;
    organization_id: string;
    version_id: string;
    cron: string;
    timezone: string;
    missed: string;
    next_at: string;
  };
  workflow_runs: {
    id: string;
    organization_id: string;
    workflow_id: string;
    version_id: string;
    version_number: number;
    status: string;
    input: string;
    error: string | null;
    caller_key_id: string | null;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
    parent_run_id: string | null;
    admitted_at: string | null;
  };
  workflow_run_steps: {
    run_id: string;
    step_id: string;
    organization_id: string;
    position: number;
    type: string;
    name: string | null;
    status: string;
    input: string | null;
    output: string | null;
    error: string | null;
    attempts: number;
    execution_id: string | null;
    started_at: string | null;
    finished_at: string | null;
    job_id: string | null;
    job_attempt: number | null;
  };
  workflow_run_slots: { run_id: string; organization_id: string };
  agent_actions: { agent_id: string; action_id: string; organization_id: string; position: number };
  agent_versions: {
    agent_id: string;
    version: number;
    organization_id: string;
    name: string;
    instructions: string;
    channels: string;
    actions: string;
    published_at: string;
    published_by: string | null;
  };
  idempotency_keys: {
    organization_id: string;
    scope: string;
    key: string;
    request_hash: string;
    state: string;
    response: string | null;
    created_at: string;
    expires_at: string;
  };
}

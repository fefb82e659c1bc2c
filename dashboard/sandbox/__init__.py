"""The sandbox: a stand-in of the Layers Partner API (ads slice) served at /sandbox/.

It follows /work/shared/layers-api/CONTRACT.md and writes its own JSON (it imports nothing
from dashboard.layers / services / views), so a wire-format bug cannot hide on both sides.

Modules
  models.py    all state (survives restarts, flushed per test, row-locked where it matters)
  clock.py     the sandbox clock (wall time + offset) and id minting (<prefix>_<ULID>)
  http.py      the request pipeline: envelope, auth, scopes, rate limits, faults, idempotency
  faults.py    injected faults: which one a call takes, what it answers, a dropped connection
  gate.py      the authority gate: kill switch → consent → axis (off | draft | auto)
  engine.py    `tick`: expiry, dispatch, jobs, optimizer runs and webhooks, in one step
  changes.py   applying changes to the fake platform; the pending queue's create/expiry/dispatch
  runs.py      jobs completing, optimizer runs advancing and settling their proposals
  proposals.py what the optimizer proposes on a campaign (within the guardrails or not)
  records.py   verdicts, audit rows, jobs, and the contract's JSON for every entity
  webhooks.py  signed deliveries from an outbox, retry ladder, background auto-delivery
  views/       API endpoints (core, campaigns, pending + optimizer)
  oauth.py     the fake platform consent page behind the OAuth URL
  control.py   POST /sandbox/_control/<action>, GET /sandbox/_control/state
  control_data.py  control actions that write test data (pending-bulk, hostile, customers)
  seed.py      the demo story (also `manage.py sandbox_seed [--force]`)
  seed_data.py the demo story's tables: keys, customers, layers, accounts, campaigns, pending
  tables.py    a reset's plain DELETE per table and INSERTs of the seed rows (no ORM compiling)
  snapshot.py  a reset's seed replayed from the first one's rows (times moved, ids minted anew)
  rows.py      each call's hot look-ups (state, key, project, layer…) as plain SQL, same rows
  scale.py     generated customers at partner scale (`sandbox_seed --customers N`)
  proposer.py  the optimizer proposing over time (control `proposer`, SANDBOX_PROPOSER_PER_MINUTE)

Answers beyond the contract (extensions.py, docs/sandbox-extensions.md) switch off with
SANDBOX_EXTENSIONS=off or control `extensions`."""

-- Telemetry's unique key, which makes a re-delivered heartbeat a no-op, now
-- leads with ts: (ts, lift_code, seq) instead of (lift_code, ts, seq).
--
-- Why: heartbeats arrive in time order from every lift at once. With the
-- lift first, each insert lands on that lift's own leaf page of the index,
-- so the pages being written are one per lift (a city's 300,000 lifts: a
-- few GB of index that must stay in memory), and COPY spent most of its
-- time descending the tree. With time first, inserts go to the right-hand
-- edge of the index, which stays in cache. Uniqueness is the same set of
-- columns, so idempotency is unchanged.
--
-- Nothing in LiftTrust reads raw telemetry by lift: pages and scoring read
-- lift_status and episodes. Reading one lift's raw heartbeats for a day
-- (forensics) scans that day's rows of every lift; see docs/operations.md.
ALTER TABLE telemetry DROP CONSTRAINT telemetry_pkey;
ALTER TABLE telemetry ADD PRIMARY KEY (ts, lift_code, seq);


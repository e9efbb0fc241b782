-- Episodes are derived in the database from the committed state, so that
-- several ingest instances sharing one MQTT subscription (which hands a
-- lift's messages to whichever instance is free) record the same episodes
-- as one instance would (ingest/state.go, docs/mqtt.md "Several instances").
--
-- A heartbeat newer than the lift's latest moves the head (done by ingest
-- under the lift_status row lock). One older than the latest arrived late,
-- typically through the other instance: this function places it into the
-- recorded timeline. Mode episodes are the runs of equal mode in the
-- heartbeats taken in time order, so a late heartbeat in another mode
-- splits the episode it falls in, from its time to the next heartbeat.
-- Called under the same lock, newest late heartbeat first (the heartbeats
-- after it are then placed already). Offline episodes are what the sweep
-- saw: a late heartbeat inside one ends the silence at its time.
CREATE FUNCTION episodes_place_heartbeat(p_lift text, p_ts timestamptz, p_state text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cov   episodes%ROWTYPE;
    nxt   episodes%ROWTYPE;
    n     timestamptz;
    b     timestamptz;
    found_cov boolean;
BEGIN
    -- The mode or offline episode the heartbeat falls in.
    SELECT * INTO cov FROM episodes
     WHERE lift_code = p_lift AND state <> 'trapped' AND started_at <= p_ts
     ORDER BY started_at DESC, ended_at DESC NULLS FIRST LIMIT 1;
    found_cov := FOUND AND (cov.ended_at IS NULL OR cov.ended_at > p_ts);
    IF found_cov AND (cov.state = p_state OR cov.started_at = p_ts) THEN
        RETURN; -- consistent already (or a tie at one instant: the first kept)
    END IF;
    IF found_cov THEN
        UPDATE episodes SET ended_at = p_ts WHERE id = cov.id;
        b := cov.ended_at;
        IF cov.state <> 'offline' THEN
            -- The next heartbeat: all of them in cov are in cov's mode.
            SELECT ts INTO n FROM telemetry
             WHERE lift_code = p_lift AND ts > p_ts AND (b IS NULL OR ts < b)
             ORDER BY ts LIMIT 1;
            IF n IS NOT NULL THEN
                INSERT INTO episodes (lift_code, state, started_at, ended_at) VALUES (p_lift, p_state, p_ts, n)
                    ON CONFLICT DO NOTHING;
                INSERT INTO episodes (lift_code, state, started_at, ended_at) VALUES (p_lift, cov.state, n, b)
                    ON CONFLICT DO NOTHING;
                RETURN;
            END IF;
        END IF;
    ELSE
        -- Before the lift's first episode (or in a gap): up to the next one.
        SELECT min(started_at) INTO b FROM episodes
         WHERE lift_code = p_lift AND state <> 'trapped' AND started_at > p_ts;
    END IF;
    -- p_state runs from p_ts to b, where the next episode starts: the same
    -- mode there merely starts earlier.
    IF b IS NOT NULL THEN
        SELECT * INTO nxt FROM episodes
         WHERE lift_code = p_lift AND started_at = b AND state NOT IN ('trapped', 'offline')
         ORDER BY ended_at DESC NULLS FIRST LIMIT 1;
        IF FOUND AND nxt.state = p_state THEN
            UPDATE episodes SET started_at = p_ts WHERE id = nxt.id;
            RETURN;
        END IF;
    END IF;
    INSERT INTO episodes (lift_code, state, started_at, ended_at) VALUES (p_lift, p_state, p_ts, b)
        ON CONFLICT DO NOTHING;
END $$;

-- Places a batch's late heartbeats, in the order given (newest first): one
-- statement per batch instead of one per heartbeat. Most late heartbeats
-- fall in an episode of their own mode (a re-delivery, or two heartbeats in
-- the same mode crossing between instances) and cost one index probe.
CREATE FUNCTION episodes_place_heartbeats(p_lifts text[], p_ts timestamptz[], p_states text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_lifts, 1), 0) LOOP
        PERFORM 1 FROM episodes
         WHERE lift_code = p_lifts[i] AND state = p_states[i] AND started_at <= p_ts[i]
           AND (ended_at IS NULL OR ended_at > p_ts[i]);
        IF NOT FOUND THEN
            PERFORM episodes_place_heartbeat(p_lifts[i], p_ts[i], p_states[i]);
        END IF;
    END LOOP;
END $$;

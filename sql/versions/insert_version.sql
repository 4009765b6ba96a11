INSERT INTO publish_version (period, version, published_at, trigger, run_id, note, inputs,
    inputs_digest, tables_digest, changed_values, changed_units, restatement, restated)
VALUES (:period, :version, :published_at, :trigger, :run_id, :note, :inputs, :inputs_digest,
    :tables_digest, :changed_values, :changed_units, :restatement, :restated)

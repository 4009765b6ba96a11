SELECT period, version, published_at, trigger, run_id, note, inputs, inputs_digest,
    tables_digest, changed_values, changed_units, restatement, restated
FROM publish_version WHERE period = :period ORDER BY version

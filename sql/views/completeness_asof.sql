SELECT c.period, c.unit_code, c.unit_name, c.level, c.kind, c.expected_units, c.reported_units,
    c.missing_units, c.reporting_rate, c.on_time_units, c.late_units, c.missing_list,
    COALESCE((SELECT MAX(h.version) FROM completeness_change h
        WHERE h.period = c.period AND h.unit_code = c.unit_code), 1) AS version_from,
    CAST(NULL AS BIGINT) AS version_to
FROM completeness c
UNION ALL
SELECT h.period, h.unit_code, h.old_unit_name, h.old_level, h.old_kind, h.old_expected_units,
    h.old_reported_units, h.old_missing_units, h.old_reporting_rate, h.old_on_time_units,
    h.old_late_units, h.old_missing_list,
    COALESCE((SELECT MAX(p.version) FROM completeness_change p
        WHERE p.period = h.period AND p.unit_code = h.unit_code
            AND p.version < h.version), 1) AS version_from,
    h.version AS version_to
FROM completeness_change h
WHERE h.change <> 'added'

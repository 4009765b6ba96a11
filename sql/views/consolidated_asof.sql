SELECT c.period, c.unit_code, c.unit_name, c.level, c.kind, c.parent_code, c.indicator,
    c.value, c.value_text, c.status, c.reporting_units, c.expected_units,
    COALESCE((SELECT MAX(h.version) FROM consolidated_change h
        WHERE h.period = c.period AND h.unit_code = c.unit_code
            AND h.indicator = c.indicator), 1) AS version_from,
    CAST(NULL AS BIGINT) AS version_to
FROM consolidated c
UNION ALL
SELECT h.period, h.unit_code, h.old_unit_name, h.old_level, h.old_kind, h.old_parent_code,
    h.indicator, h.old_value, h.old_value_text, h.old_status, h.old_reporting_units,
    h.old_expected_units,
    COALESCE((SELECT MAX(p.version) FROM consolidated_change p
        WHERE p.period = h.period AND p.unit_code = h.unit_code
            AND p.indicator = h.indicator AND p.version < h.version), 1) AS version_from,
    h.version AS version_to
FROM consolidated_change h
WHERE h.change <> 'added'

DELETE FROM org_unit

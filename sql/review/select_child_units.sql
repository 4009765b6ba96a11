SELECT code, name, kind FROM org_unit
WHERE parent_code = :unit_code AND kind IN ('province', 'city', 'county', 'township')
ORDER BY code

SELECT level FROM org_unit WHERE code = :code

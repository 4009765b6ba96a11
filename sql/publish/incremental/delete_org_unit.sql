DELETE FROM org_unit WHERE code = :code

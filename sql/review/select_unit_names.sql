SELECT code, name FROM org_unit WHERE code IN :codes

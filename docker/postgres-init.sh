#!/bin/bash
# The warehouse lives beside Airflow's metadata database, with its own role; its password
# comes from the operator's .env (HUIZONG_DB_PASSWORD), never from this file.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v pw="${HUIZONG_DB_PASSWORD:?HUIZONG_DB_PASSWORD is required}" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE huizong LOGIN PASSWORD :'pw';
CREATE DATABASE huizong OWNER huizong;
SQL

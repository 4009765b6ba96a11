-- The warehouse lives beside Airflow's metadata database, with its own role.
CREATE ROLE huizong LOGIN PASSWORD 'huizong';
CREATE DATABASE huizong OWNER huizong;

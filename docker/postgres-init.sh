#!/bin/sh
# Runs once, when the data directory is new (the postgres image runs /docker-entrypoint-initdb.d/*.sh as its
# superuser). The app gets a role of its own that owns its database (so it can migrate its schema) and
# nothing more: no superuser, no CREATEDB, no CREATEROLE (ASVS 13.2.2 least privilege). Also a second
# database for tests, as the original's init script made.
#   POSTGRES_USER      the superuser this runs as (the image's variable)
#   APP_POSTGRES_USER, APP_POSTGRES_PASSWORD, APP_POSTGRES_DB   the app's role, its password, its database
#   APP_POSTGRES_TEST_DB   the tests' database (default: test)
set -eu
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  -v app_user="$APP_POSTGRES_USER" -v app_password="$APP_POSTGRES_PASSWORD" \
  -v app_db="$APP_POSTGRES_DB" -v test_db="${APP_POSTGRES_TEST_DB:-test}" <<'SQL'
CREATE ROLE :"app_user" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
CREATE DATABASE :"test_db" OWNER :"app_user";
-- the schema the app migrates belongs to it, whatever the template database's default (PostgreSQL < 15)
\connect :"app_db"
ALTER SCHEMA public OWNER TO :"app_user";
\connect :"test_db"
ALTER SCHEMA public OWNER TO :"app_user";
SQL

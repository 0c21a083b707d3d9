# The original's daily commands, and a few more. Variables come from .env when there is one.
-include .env
export

COMPOSE ?= docker compose

.PHONY: up upb stop db r test b logs migrate bench stack certs backup restore restart-ws restart-stack-ws

CERTS_DIR ?= .data/certs

up: certs ## start the stack (dev mode: compose.override.yml, hot reload)
	$(COMPOSE) up -d

upb: certs ## rebuild the images and recreate the containers
	$(COMPOSE) up -d --force-recreate --build

certs: ## a self-signed TLS pair for localhost in $(CERTS_DIR) (cert.pem, key.pem); kept if already there
	node scripts/self-signed-cert.mjs $(CERTS_DIR)

stop:
	$(COMPOSE) stop

db: ## psql in the database container
	$(COMPOSE) exec db psql -U "$(POSTGRES_USER)" "$(POSTGRES_DB)"

r: ## redis-cli in the Redis container (REDISCLI_AUTH there holds the password)
	$(COMPOSE) exec redis redis-cli

test: ## every suite: unit, integration, browser, topology
	npm test

b: ## a shell in a container: make b c=api
	$(COMPOSE) exec $(c) sh

logs:
	$(COMPOSE) logs -f --tail=100

migrate: ## apply pending migrations (the api also does at start)
	$(COMPOSE) exec api sh -c 'if [ -f dist/bin/migrate-cli.js ]; then node dist/bin/migrate-cli.js latest; else node --import tsx src/db/migrate-cli.ts latest; fi'

bench:
	npm run bench

restart-ws: ## rolling restart of the ws containers, one at a time, each ready before the next (no message lost)
	COMPOSE="$(COMPOSE)" scripts/restart-ws.sh

restart-stack-ws: ## the same for `make stack`'s ws processes (it restarts them on SIGUSR2)
	kill -USR2 "$$(cat "$${STACK_DIR:-.data/stack}/stack.pid")"

stack: ## the same topology without Docker: nginx (HTTPS), Adminer (php -S), api, two ws, local PostgreSQL and Redis
	node scripts/stack.mjs

# Backups: PostgreSQL holds everything that matters; Redis only sessions, limits and presence (README, Backups).
backup: ## a dump of the database (custom format, timestamped) into .data/backups/
	PG_EXEC="$(COMPOSE) exec -T db" scripts/db-backup.sh backup

restore: ## restore a dump into an empty database: make restore FILE=.data/backups/chat-….dump
	PG_EXEC="$(COMPOSE) exec -T db" scripts/db-backup.sh restore "$(FILE)"

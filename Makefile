# The two commands a newcomer needs: `make demo` runs the whole system with demo data on
# http://localhost:8080, and `make test` runs every test. Both fetch ECharts (pinned in
# reports/assets/package-lock.json) from the npm registry first, because the binary embeds it.

ECHARTS := reports/assets/node_modules/echarts/dist/echarts.min.js

.PHONY: demo test build assets bench

demo: $(ECHARTS)
	go run ./cmd/propcredit serve --demo --data ./data --addr :8080 --log-format text

# The storage package runs a second time under the race detector: its rating writer and
# per-document locks are where goroutines meet.
# The browser tests keep their screenshots (phone and desktop, Chinese and English) in a new
# temporary folder, named before the tests start, for people to look at afterwards.
test: $(ECHARTS)
	go vet ./...
	@shots=$$(mktemp -d "$${TMPDIR:-/tmp}/propcredit-screenshots.XXXXXX") && \
	  echo "browser test screenshots: $$shots" && \
	  BROWSERTEST_SCREENSHOTS=$$shots go test -count=1 -timeout 15m ./...
	go test -race -count=1 -timeout 10m ./internal/mongodb

build: $(ECHARTS)
	go build -o bin/propcredit ./cmd/propcredit

assets: $(ECHARTS)

$(ECHARTS): reports/assets/package.json reports/assets/package-lock.json
	cd reports/assets && npm ci --no-audit --no-fund
	touch $@

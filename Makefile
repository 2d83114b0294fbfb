# The two commands a newcomer needs: `make demo` runs the whole system with demo data on
# http://localhost:8080, and `make test` runs every test. Neither needs Node: the ECharts bundle the
# binary embeds is committed (reports/assets/echarts.min.js), pinned in
# reports/assets/package-lock.json; `make echarts` refreshes it from the npm registry.

.PHONY: demo test build bench echarts

demo:
	go run ./cmd/propcredit serve --demo --data ./data --addr :8080 --log-format text

# The storage package runs a second time under the race detector: its rating writer and
# per-document locks are where goroutines meet.
# The browser tests keep their screenshots (phone and desktop, Chinese and English) in a new
# temporary folder, named before the tests start, for people to look at afterwards.
test:
	go vet ./...
	@shots=$$(mktemp -d "$${TMPDIR:-/tmp}/propcredit-screenshots.XXXXXX") && \
	  echo "browser test screenshots: $$shots" && \
	  BROWSERTEST_SCREENSHOTS=$$shots go test -count=1 -timeout 15m ./...
	go test -race -count=1 -timeout 10m ./internal/mongodb

build:
	go build -o bin/propcredit ./cmd/propcredit

# echarts: fetch the ECharts version pinned in reports/assets/package-lock.json (`npm ci` checks
# the package against the lock's sha512 integrity), copy its dist/echarts.min.js beside the lock
# and record in echarts.min.js.sum the package's integrity and the file's own sha512, which
# reports' TestEChartsBundle checks on every `go test`. To move to another version: change
# package.json, `npm install --package-lock-only` in reports/assets, then `make echarts`.
echarts:
	rm -rf reports/assets/.npm-tmp && mkdir reports/assets/.npm-tmp
	cp reports/assets/package.json reports/assets/package-lock.json reports/assets/.npm-tmp/
	cd reports/assets/.npm-tmp && npm ci --no-audit --no-fund --ignore-scripts
	cp reports/assets/.npm-tmp/node_modules/echarts/dist/echarts.min.js reports/assets/echarts.min.js
	cd reports/assets && printf 'echarts %s\ndist/echarts.min.js sha512-%s\n' \
	  "$$(node -p 'const e = require("./package-lock.json").packages["node_modules/echarts"]; e.version + " " + e.integrity')" \
	  "$$(openssl dgst -sha512 -binary echarts.min.js | base64 -w0)" > echarts.min.js.sum
	rm -rf reports/assets/.npm-tmp

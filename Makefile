# まちウォレット — two commands on a fresh machine with Python 3.11 and make:
#   make run    set up, migrate, seed the demo town, serve it (with the LINE simulator)
#   make test   set up, then the whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup run test lint bench browsers clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,reports]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

browsers:
	@bash scripts/ensure-chromium

run: setup
	$(BIN)/machi db upgrade
	$(BIN)/machi demo seed --if-empty
	@echo ""
	@echo "  まちウォレット デモの町: http://$(HOST):$(PORT)/simulator"
	@echo "  左は住民（佐藤 花子）、右はお店（Aコープの店員）のスマホです。ためしてみること:"
	@echo "   1. 花子の「残高」をタップ → 券種ごとの残高"
	@echo "   2. 花子の「支払う」→「QRコードを見せて払う」、店員の「読み取り」で花子の画面を選び 800 円"
	@echo "   3. 上の選択で「鈴木 健太」に替えて「追加」→「登録する」（未登録の方の登録）"
	@echo "  管理画面（役場の職員向け）: http://$(HOST):$(PORT)/console/  （ログイン名・パスワードは demo seed の表示）"
	@echo "  くわしい手順は README の「Try it: the simulator」にあります。(Ctrl+C で終了)"
	@echo ""
	MACHI_PUBLIC_URL=http://$(HOST):$(PORT) LINE_API_HOST=http://$(HOST):$(PORT) $(BIN)/machi serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .

test: setup browsers lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* test-artifacts

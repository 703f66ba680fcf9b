// The board: routes (#/unit/CODE, #/leaderboard/LEVEL[/PARENT]), views, live refresh, TV mode.
//
// Figures are never computed here: every number comes from the read API, so the board and the
// API cannot disagree. The live stream only says *that* something changed; the board then
// fetches the affected view again (throttled), and fetches everything after a reconnect.

import { makeI18n } from "./i18n.js";
import { Live } from "./live.js";
import { ensureSignedIn, keepSessionAlive, signOut } from "./session.js";
import { TrendChart } from "./trend.js";
import * as html from "./views.js";

const params = new URLSearchParams(location.search);
const tv = params.get("tv") === "1";
const rotateS = Math.max(3, Number(params.get("rotate")) || 20);
const staleAfterS = Math.max(1, Number(params.get("stale")) || 30);
const REFRESH_AFTER_CHANGE_MS = 300; // several changes in a burst make one fetch
const SAFETY_REFRESH_MS = 30_000; // pace markers move with the clock even when nobody works
const FETCH_TIMEOUT_MS = 8_000;

const $ = (id) => document.getElementById(id);
// `roots` and `kinds` describe the live map (GET /v1/units, GET /v1/kinds); they are fetched
// again when the server says the figures moved to another map.
const state = { i18n: makeI18n(params.get("lang") === "en" ? "en" : "vi"), roots: [], kinds: [], view: null, lastUpdate: null, signedIn: false };

async function getJSON(path) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(path, { signal: abort.signal, cache: "no-store" });
    if (response.status === 401) location.reload(); // the session ended: sign in again
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

class UnitView {
  constructor(code) {
    this.code = code;
    this.codes = new Set([code]);
    $("view").innerHTML = `
      <div class="unit-view" data-testid="unit-view" data-unit="${html.esc(code)}">
        <nav class="crumbs" id="crumbs" data-testid="crumbs"></nav>
        <div class="cards" id="cards"></div>
        <div class="panels" id="panels">
          <section class="panel ranking-panel"><h2 id="ranking-title"></h2><div id="ranking" data-testid="ranking"></div></section>
          <div class="side">
            <section class="panel trend-panel"><h2 id="trend-title"></h2>
              <div class="chart-box"><canvas id="trend-canvas" data-testid="trend-chart"></canvas></div></section>
            <section class="panel alerts-panel"><h2 id="alerts-title"></h2><div id="alerts" data-testid="alerts"></div></section>
          </div>
        </div>
      </div>`;
    this.chart = new TrendChart($("trend-canvas"), tv);
  }

  async refresh() {
    const code = encodeURIComponent(this.code);
    const [progress, children, trend, alerts] = await Promise.all([
      getJSON(`/v1/units/${code}/progress`),
      getJSON(`/v1/units/${code}/children`),
      getJSON(`/v1/units/${code}/trend?days=14`),
      getJSON(`/v1/alerts?unit=${code}&status=open&limit=50`),
    ]);
    return () => this.render(progress, children, trend, alerts);
  }

  render(progress, children, trend, alerts) {
    const { i18n } = state;
    this.codes = new Set([this.code, ...children.entries.map((e) => e.unit.code)]);
    $("crumbs").innerHTML = html.breadcrumbs(progress.path, i18n, !tv);
    $("cards").innerHTML = html.cards(progress, i18n);
    // A team has no children: its trend and alerts take the room of the ranking.
    $("panels").classList.toggle("solo", !children.level);
    $("ranking-title").textContent = children.level ? i18n.t("rankingOf", { kinds: i18n.level(children.level) }) : "";
    $("ranking").innerHTML = children.level ? html.rankingRows(children, i18n, { limit: tv ? 30 : Infinity }) : "";
    $("trend-title").textContent = i18n.t("trend", { name: progress.unit.name });
    this.chart.update(trend, i18n);
    $("alerts-title").textContent = i18n.t("alerts");
    $("alerts").innerHTML = html.alertItems(alerts, i18n, tv ? 6 : 20);
  }

  destroy() {
    this.chart.destroy();
  }
}

class LeaderboardView {
  constructor(level, parent) {
    this.level = level;
    this.parent = parent;
    this.codes = new Set();
    $("view").innerHTML = `<div class="leaderboard-view" data-testid="leaderboard-view" data-level="${html.esc(level)}">
        <h2 id="lb-title"></h2><div id="lb" data-testid="leaderboard"></div></div>`;
  }

  async refresh() {
    const query = new URLSearchParams({ level: this.level });
    if (this.parent) query.set("parent", this.parent);
    const ranking = await getJSON(`/v1/leaderboard?${query}`);
    return () => this.render(ranking);
  }

  render(ranking) {
    const { i18n } = state;
    this.codes = new Set(ranking.entries.map((e) => e.unit.code));
    const where = ranking.parent ? ranking.parent.name : state.roots.map((r) => r.name).join(", ");
    $("lb-title").textContent = i18n.t("leaderboard", { kinds: i18n.level(this.level), where });
    $("lb").innerHTML = html.rankingRows(ranking, i18n, { limit: tv ? 20 : 100, showParent: true });
  }

  destroy() {}
}

// The user's unit is not in the live map (a district focal point after districts were dissolved).
class NoUnitView {
  constructor(unit) {
    this.codes = new Set();
    $("view").innerHTML = `<p class="empty" data-testid="no-unit">${html.esc(state.i18n.t("noUnit", { unit }))}</p>`;
  }

  async refresh() {
    return () => {};
  }

  destroy() {}
}

// Levels a leaderboard ranks in the live map, from the top down.
const rankedLevels = () => state.kinds.filter((k) => k.ranked).map((k) => k.kind);

function route() {
  if (!state.roots.length) return new NoUnitView(state.user?.unit ?? "");
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "leaderboard" && rankedLevels().includes(parts[1])) {
    return new LeaderboardView(parts[1], parts[2]);
  }
  return new UnitView(parts[0] === "unit" && parts[1] ? parts[1] : state.roots[0].code);
}

async function loadMap() {
  const [roots, kinds] = await Promise.all([getJSON("/v1/units"), getJSON("/v1/kinds")]);
  state.roots = roots;
  state.kinds = kinds.kinds;
  state.i18n = makeI18n(state.i18n.lang, state.kinds);
}

// The figures moved to another map (the aggregator switched the read model): levels and units
// may have changed, and the unit on screen may be gone (a dissolved district).
async function followMap() {
  try {
    await loadMap();
  } catch (error) {
    scheduleRefresh(0);
    return;
  }
  const code = state.view?.code;
  const gone = code && !(await fetch(`/v1/units/${encodeURIComponent(code)}/progress`, { cache: "no-store" })).ok;
  if (gone && state.roots.length && location.hash !== `#/unit/${state.roots[0].code}`) {
    location.hash = `#/unit/${state.roots[0].code}`; // hashchange shows it
  } else {
    showView();
  }
}

// One fetch at a time; changes that arrive meanwhile make exactly one more.
const refresher = { timer: null, running: false, again: false };

function scheduleRefresh(delay = REFRESH_AFTER_CHANGE_MS) {
  if (refresher.running) {
    refresher.again = true;
  } else if (refresher.timer === null) {
    refresher.timer = setTimeout(runRefresh, delay);
  }
}

async function runRefresh() {
  refresher.timer = null;
  const view = state.view;
  if (!view) return; // not routed yet: the first view fetches by itself
  refresher.running = true;
  try {
    const render = await view.refresh();
    if (view === state.view) {
      render();
      state.lastUpdate = Date.now();
      // The read model is only current while the server reads the broker: with the feed down,
      // fetched figures are shown but their age keeps growing.
      if (live.status === "live") live.confirm();
      $("error").hidden = true;
    }
  } catch (error) {
    // Keep the last figures on screen; their growing age (and the stale look) tells the truth.
    $("error").textContent = state.i18n.t("loadFailed", { error: error.message });
    $("error").hidden = false;
  } finally {
    refresher.running = false;
    if (refresher.again) {
      refresher.again = false;
      scheduleRefresh();
    }
  }
}

function showView() {
  state.view?.destroy();
  state.view = route();
  scheduleRefresh(0);
}

function renderChrome() {
  const { i18n } = state;
  document.documentElement.lang = i18n.lang;
  document.title = i18n.t("title");
  $("title").textContent = i18n.t("title");
  $("lang-toggle").textContent = i18n.t("switchLang");
  $("sign-out").textContent = i18n.t("signOut");
  renderStatus(live.status);
  tick();
}

function renderStatus(status) {
  const labels = { connecting: "connecting", live: "live", reconnecting: "reconnecting", "feed-down": "feedDown" };
  const el = $("conn-state");
  el.textContent = state.i18n.t(labels[status]);
  el.className = `conn ${status}`;
  el.dataset.state = status;
}

function tick() {
  const { i18n } = state;
  const age = live.ageMs();
  // Before sign-in there is nothing to be stale; the form must not look greyed out.
  const stale = state.signedIn && live.isStale();
  document.body.classList.toggle("stale", stale);
  document.body.dataset.stale = String(stale);
  $("last-update").textContent = state.lastUpdate ? i18n.t("lastUpdate", { time: i18n.time(state.lastUpdate) }) : i18n.t("never");
  $("data-age").textContent = age === null ? "" : i18n.t("age", { n: Math.floor(age / 1000) });
  const banner = $("stale-banner");
  banner.hidden = !stale;
  banner.textContent = live.lastConfirmed ? i18n.t("stale", { time: i18n.time(live.lastConfirmed) }) : i18n.t("staleNever");
}

function switchLanguage() {
  const lang = state.i18n.lang === "vi" ? "en" : "vi";
  state.i18n = makeI18n(lang, state.kinds);
  params.set("lang", lang);
  history.replaceState(null, "", `?${params}${location.hash}`); // the view stays linkable
  renderChrome();
  showView();
}

function startRotation() {
  const root = state.roots[0]?.code;
  if (!root) return;
  // The root's own view ranks the highest level already; the levels below get a leaderboard each.
  const boards = rankedLevels().slice(1).map((level) => `leaderboard/${level}`);
  const views = params.get("views")?.split(",").filter(Boolean) ?? [`unit/${root}`, ...boards];
  let next = Math.max(0, views.indexOf(location.hash.replace(/^#\/?/, ""))) + 1;
  setInterval(() => {
    location.hash = `#/${views[next % views.length]}`;
    next += 1;
  }, rotateS * 1000);
}

const live = new Live({
  url: "/v1/stream",
  staleAfterS,
  onStatus: (status) => renderStatus(status),
  onReconnect: () => scheduleRefresh(0),
  onEvent: (kind, data) => {
    if (kind === "map") return followMap();
    if (kind === "progress" && !state.view?.codes.has(data.unit)) return;
    scheduleRefresh();
  },
});

async function main() {
  document.body.classList.toggle("tv", tv);
  renderChrome();
  $("lang-toggle").addEventListener("click", switchLanguage);
  const user = await ensureSignedIn($("view"), state.i18n);
  state.user = user;
  state.signedIn = true;
  $("who").textContent = `${user.display_name} · ${user.unit}`;
  $("sign-out").textContent = state.i18n.t("signOut");
  $("sign-out").hidden = false;
  $("sign-out").addEventListener("click", signOut);
  keepSessionAlive();
  $("view").addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-code]");
    if (row && !tv) location.hash = `#/unit/${row.dataset.code}`;
  });
  live.start();
  setInterval(tick, 1000);
  for (;;) {
    try {
      await loadMap();
      break;
    } catch (error) {
      $("error").textContent = state.i18n.t("loadFailed", { error: error.message });
      $("error").hidden = false;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  window.addEventListener("hashchange", showView);
  showView();
  setInterval(() => scheduleRefresh(0), SAFETY_REFRESH_MS);
  if (tv) startRotation();
}

main();

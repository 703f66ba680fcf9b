// The board: routes (#/unit/CODE, #/leaderboard/LEVEL[/PARENT]), views, live refresh, TV mode.
//
// Figures are never computed here: every number comes from the read API, so the board and the
// API cannot disagree. The live stream only says *that* something changed; the board then
// fetches the affected view again (throttled), and fetches everything after a reconnect.

import { makeI18n } from "./i18n.js";
import { Live } from "./live.js";
import { BASES, LeaderboardView, NoUnitView, UnitView } from "./screens.js";
import { ensureSignedIn, keepSessionAlive, signOut } from "./session.js";

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
// `basis`: rankings on what teams claim or on what the registry confirmed (?basis=confirmed).
const state = {
  i18n: makeI18n(params.get("lang") === "en" ? "en" : "vi"), roots: [], kinds: [], view: null, lastUpdate: null, signedIn: false,
  basis: BASES.includes(params.get("basis")) ? params.get("basis") : BASES[0],
};

async function getResponse(path) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(path, { signal: abort.signal, cache: "no-store" });
    await response.clone().arrayBuffer(); // the body inside the time limit too
    return response;
  } finally {
    clearTimeout(timer);
  }
}

async function getJSON(path) {
  const response = await getResponse(path);
  if (response.status === 401) location.reload(); // the session ended: sign in again
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

const ctx = { state, tv, getJSON, getResponse };

// Levels a leaderboard ranks in the live map, from the top down.
const rankedLevels = () => state.kinds.filter((k) => k.ranked).map((k) => k.kind);

function route() {
  if (!state.roots.length) return new NoUnitView(state.user?.unit ?? "", ctx);
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "leaderboard" && rankedLevels().includes(parts[1])) {
    return new LeaderboardView(parts[1], parts[2], ctx);
  }
  return new UnitView(parts[0] === "unit" && parts[1] ? parts[1] : state.roots[0].code, ctx);
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

function switchBasis(basis) {
  if (basis === state.basis) return;
  state.basis = basis;
  params.set("basis", basis);
  history.replaceState(null, "", `?${params}${location.hash}`);
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
    const button = event.target.closest("button[data-basis]");
    if (button) return switchBasis(button.dataset.basis);
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

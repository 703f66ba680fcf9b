// The board's screens: a unit, a leaderboard of one level, and "your unit is not on the map".
// Each has `codes` (the units whose changes concern it), `refresh()` (fetches, then returns the
// function that draws what it fetched, so a screen left meanwhile draws nothing) and `destroy()`.
//
// `ctx` is the board's: { state, tv, getJSON, getResponse }; `state.basis` is the ranking basis
// (claimed | confirmed), asked of the server, which says in its answer what it ranked on.

import { RegistryPanels } from "./registry_panels.js";
import { SpotPanels } from "./spot_panels.js";
import { TrendChart } from "./trend.js";
import * as html from "./views.js";

const $ = (id) => document.getElementById(id);

export const BASES = ["claimed", "confirmed"];

// The claimed | confirmed switch above a ranking; the board listens for clicks on [data-basis].
function basisSwitch(basis, i18n) {
  return `<span class="basis-label">${html.esc(i18n.t("basisLabel"))}</span>${BASES.map(
    (b) => `<button type="button" class="basis${b === basis ? " active" : ""}" data-basis="${b}" aria-pressed="${b === basis}"
      data-testid="basis-${b}">${html.esc(i18n.t(`basis_${b}`))}</button>`,
  ).join("")}`;
}

export class UnitView {
  constructor(code, ctx) {
    this.code = code;
    this.ctx = ctx;
    this.codes = new Set([code]);
    $("view").innerHTML = `
      <div class="unit-view" data-testid="unit-view" data-unit="${html.esc(code)}">
        <nav class="crumbs" id="crumbs" data-testid="crumbs"></nav>
        <div class="cards" id="cards"></div>
        <div class="panels" id="panels">
          <section class="panel ranking-panel"><h2 id="ranking-title"></h2>
            <div class="basis-switch" id="basis-switch" data-testid="basis-switch"></div>
            <div id="ranking" data-testid="ranking"></div></section>
          <div class="side">
            <section class="panel trend-panel"><h2 id="trend-title"></h2>
              <div class="chart-box"><canvas id="trend-canvas" data-testid="trend-chart"></canvas></div></section>
            <section class="panel alerts-panel"><h2 id="alerts-title"></h2><div id="alerts" data-testid="alerts"></div></section>
          </div>
        </div>
        <div class="registry" id="registry" data-testid="registry"></div>
        <div class="spot" id="spot"></div>
      </div>`;
    this.chart = new TrendChart($("trend-canvas"), ctx.tv);
    this.registry = new RegistryPanels($("registry"), code, { tv: ctx.tv });
    this.spot = new SpotPanels($("spot"), code, { tv: ctx.tv, user: ctx.state.user, i18n: ctx.state.i18n });
  }

  async refresh() {
    const { getJSON, getResponse, state } = this.ctx;
    const code = encodeURIComponent(this.code);
    const [progress, children, trend, alerts] = await Promise.all([
      getJSON(`/v1/units/${code}/progress`),
      getJSON(`/v1/units/${code}/children?${new URLSearchParams({ basis: state.basis })}`),
      getJSON(`/v1/units/${code}/trend?days=14`),
      getJSON(`/v1/alerts?unit=${code}&status=open&limit=50`),
      this.registry.refresh(getResponse),
      this.spot.refresh(getResponse),
    ]);
    return () => this.render(progress, children, trend, alerts);
  }

  render(progress, children, trend, alerts) {
    const { state, tv } = this.ctx;
    const { i18n } = state;
    this.codes = new Set([this.code, ...children.entries.map((e) => e.unit.code)]);
    $("crumbs").innerHTML = html.breadcrumbs(progress.path, i18n, !tv);
    $("cards").innerHTML = html.cards(progress, i18n);
    // A team has no children: its trend and alerts take the room of the ranking.
    $("panels").classList.toggle("solo", !children.level);
    $("ranking-title").textContent = children.level ? i18n.t("rankingOf", { kinds: i18n.level(children.level) }) : "";
    $("basis-switch").innerHTML = children.level && !tv ? basisSwitch(state.basis, i18n) : "";
    $("ranking").innerHTML = children.level ? html.rankingRows(children, i18n, { limit: tv ? 30 : Infinity }) : "";
    $("trend-title").textContent = i18n.t("trend", { name: progress.unit.name });
    this.chart.update(trend, i18n, this.registry.confirmedDays());
    $("alerts-title").textContent = i18n.t("alerts");
    $("alerts").innerHTML = html.alertItems(alerts, i18n, tv ? 6 : 20);
    this.registry.render(i18n, progress.unit.name);
    this.spot.render(i18n, progress);
  }

  destroy() {
    this.chart.destroy();
  }
}

export class LeaderboardView {
  constructor(level, parent, ctx) {
    this.level = level;
    this.parent = parent;
    this.ctx = ctx;
    this.codes = new Set();
    $("view").innerHTML = `<div class="leaderboard-view" data-testid="leaderboard-view" data-level="${html.esc(level)}">
        <h2 id="lb-title"></h2><div class="basis-switch" id="basis-switch" data-testid="basis-switch"></div>
        <div id="lb" data-testid="leaderboard"></div></div>`;
  }

  async refresh() {
    const query = new URLSearchParams({ level: this.level, basis: this.ctx.state.basis });
    if (this.parent) query.set("parent", this.parent);
    const ranking = await this.ctx.getJSON(`/v1/leaderboard?${query}`);
    return () => this.render(ranking);
  }

  render(ranking) {
    const { state, tv } = this.ctx;
    const { i18n } = state;
    this.codes = new Set(ranking.entries.map((e) => e.unit.code));
    const where = ranking.parent ? ranking.parent.name : state.roots.map((r) => r.name).join(", ");
    $("lb-title").textContent = i18n.t("leaderboard", { kinds: i18n.level(this.level), where });
    $("basis-switch").innerHTML = tv ? "" : basisSwitch(state.basis, i18n);
    $("lb").innerHTML = html.rankingRows(ranking, i18n, { limit: tv ? 20 : 100, showParent: true });
  }

  destroy() {}
}

// The user's unit is not in the live map (a district focal point after districts were dissolved).
export class NoUnitView {
  constructor(unit, ctx) {
    this.codes = new Set();
    $("view").innerHTML = `<p class="empty" data-testid="no-unit">${html.esc(ctx.state.i18n.t("noUnit", { unit }))}</p>`;
  }

  async refresh() {
    return () => {};
  }

  destroy() {}
}

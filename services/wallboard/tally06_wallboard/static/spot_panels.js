// The spot-check panel of a unit's view (issue 18): the unit's last decided check for everyone
// whose scope holds the unit; for verifiers also the open checks in their scope, with a link to
// the verification page, and a form to draw a new check of the unit on screen.
//
// Like the registry panels it fails on its own: an endpoint that is missing (404), refused (403)
// or unreachable leaves the panel quiet (hidden, or showing what it showed before), never the
// unit's figures. Open checks are never shown on a wall screen: a room may hold the unit's own
// people, who must not learn that a draw is coming.

import { optionalJSON } from "./registry_panels.js";
import * as html from "./spot_views.js";
import { esc } from "./views.js";

// tally06.domain.spot_checks.VERIFIER_ROLES (a unit test holds them equal).
export const VERIFIER_ROLES = new Set(["district_focal", "province_operator"]);
// A verdict moves with verifiers' calls, not with claims: a board that refreshes on every claim
// asks again at most this often.
const EVERY_MS = 30_000;
const OPEN_ROWS = 8;
const PREVIEW_DELAY_MS = 250;
const TZ = "Asia/Ho_Chi_Minh";

// Whether the signed-in verifier may draw (and so see) a check of the unit whose path (root
// first) is `path`: domain.spot_checks.sees_open_check. The server decides; this only spares a
// form that would be refused.
export function mayDraw(user, path) {
  const chain = path.map((u) => u.code).reverse();
  if (!user || !VERIFIER_ROLES.has(user.role) || !chain.includes(user.unit)) return false;
  return user.unit !== chain[0] || user.role === "province_operator";
}

// A local day in Vietnam, `back` days ago, as an <input type=date> value.
function localDay(back = 0) {
  const moment = new Date(Date.now() - back * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(moment);
}

function nextDay(day) {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

// The message of a refused request ({"detail": [{"field", "message"}]}), naming the field.
export async function refusal(response) {
  const body = await response.json().catch(() => ({}));
  const detail = Array.isArray(body.detail) ? body.detail[0] : body.detail && typeof body.detail === "object" ? body.detail : body;
  if (detail && detail.message) return detail.field ? `${detail.field}: ${detail.message}` : detail.message;
  return typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`;
}

export class SpotPanels {
  constructor(container, code, { tv, user, i18n }) {
    this.code = code;
    this.tv = tv;
    this.user = user;
    this.i18n = i18n;
    this.verifier = !tv && !!user && VERIFIER_ROLES.has(user.role);
    this.answers = {};
    this.fetchedAt = 0;
    this.thresholds = null;
    this.previewTimer = null;
    container.innerHTML = `
      <section class="panel spot-panel" id="spot-panel" data-testid="spot-panel" hidden>
        <h2 id="spot-title"></h2>
        <div id="spot-last" data-testid="spot-last"></div>
        <div id="spot-open-box" class="spot-open-box" hidden><h3>${esc(i18n.t("spotOpenTitle"))}</h3>
          <div id="spot-open" data-testid="spot-open"></div></div>
        <div id="spot-draw-box" class="spot-draw-box" hidden></div>
      </section>`;
    this.container = container;
  }

  async refresh(getResponse, { force = false } = {}) {
    this.getResponse = getResponse;
    if (!force && Date.now() - this.fetchedAt < EVERY_MS) return;
    const wanted = { last: `/v1/units/${encodeURIComponent(this.code)}/spot-check` };
    if (this.verifier) wanted.open = "/v1/spot-checks?status=open";
    await Promise.all(
      Object.entries(wanted).map(async ([panel, path]) => {
        try {
          this.answers[panel] = await optionalJSON(getResponse, path);
        } catch (error) {
          // Keep what the panel showed; the unit's main figures say whether the server is well.
        }
      }),
    );
    this.fetchedAt = Date.now();
  }

  render(i18n, progress) {
    this.i18n = i18n;
    this.progress = progress;
    const $ = (id) => this.container.querySelector(`#${id}`);
    const last = this.answers.last?.answer ?? null;
    const open = this.answers.open?.answer ?? null;
    const name = progress.unit.name;
    $("spot-title").textContent = i18n.t("spotTitle", { name });
    $("spot-last").innerHTML = last ? html.lastCheck(last.last, i18n) : "";
    $("spot-last").hidden = !last;
    $("spot-open-box").hidden = !open;
    if (open) $("spot-open").innerHTML = html.openChecks(open, i18n, OPEN_ROWS);
    const drawing = this.verifier && mayDraw(this.user, progress.path);
    if (drawing && !this.form) this.buildForm($("spot-draw-box"), name);
    $("spot-draw-box").hidden = !drawing;
    // Nothing to say (no answer and not a verifier): no panel at all.
    $("spot-panel").hidden = !last && !open && !drawing;
  }

  // Built once per view and never redrawn by a refresh, so what a verifier types stays.
  buildForm(box, name) {
    const { i18n } = this;
    box.innerHTML = `
      <form class="spot-draw" data-testid="spot-draw" novalidate>
        <h3>${esc(i18n.t("spotDrawTitle", { name }))}</h3>
        <label>${esc(i18n.t("spotFrom"))} <input type="date" name="from" value="${localDay(30)}" data-testid="spot-draw-from"></label>
        <label>${esc(i18n.t("spotTo"))} <input type="date" name="to" value="${localDay(0)}" data-testid="spot-draw-to"></label>
        <label>${esc(i18n.t("spotSource"))} <select name="population" data-testid="spot-draw-population">
          ${["credited", "unconfirmed"].map((p) => `<option value="${p}">${esc(i18n.t(`spotPop_${p}`))}</option>`).join("")}</select></label>
        <label>${esc(i18n.t("spotN"))} <input type="number" name="n" min="1" max="500" inputmode="numeric" data-testid="spot-draw-n"></label>
        <label>${esc(i18n.t("spotD"))} <input type="number" name="d" min="0" max="500" inputmode="numeric" data-testid="spot-draw-d"></label>
        <small class="hint">${esc(i18n.t("spotOptional"))}</small>
        <div class="spot-preview" data-testid="spot-preview"></div>
        <button type="submit" data-testid="spot-draw-button">${esc(i18n.t("spotDraw"))}</button>
        <p class="spot-draw-result" data-testid="spot-draw-result" role="status"></p>
      </form>`;
    this.form = box.querySelector("form");
    this.form.addEventListener("input", () => this.schedulePreview());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.draw();
    });
    this.loadThresholds();
  }

  async loadThresholds() {
    try {
      const response = await fetch(`/v1/spot-checks/thresholds?${new URLSearchParams({ unit: this.code })}`, { cache: "no-store" });
      if (response.ok) this.thresholds = await response.json();
    } catch (error) {
      // The preview then asks the design of the default thresholds (no parameters).
    }
    this.preview();
  }

  schedulePreview() {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.preview(), PREVIEW_DELAY_MS);
  }

  // The rule the draw would use, with its exact risks, from the server's design.
  async preview() {
    const box = this.form.querySelector(".spot-preview");
    const { n, d } = this.ruleGiven();
    let query;
    if (n !== null && d !== null) {
      query = new URLSearchParams({ n, d });
      if (this.thresholds) for (const key of ["upper", "lower"]) query.set(key, this.thresholds[key]);
    } else if (n === null && d === null) {
      query = new URLSearchParams();
      if (this.thresholds) for (const key of ["upper", "lower", "alpha", "beta"]) query.set(key, this.thresholds[key]);
    } else {
      box.innerHTML = html.designPreview(null, this.i18n);
      return;
    }
    try {
      const response = await fetch(`/v1/spot-checks/design?${query}`, { cache: "no-store" });
      box.innerHTML = response.ok ? html.designPreview(await response.json(), this.i18n) : `<span class="failed">${esc(await refusal(response))}</span>`;
    } catch (error) {
      box.innerHTML = html.designPreview(null, this.i18n);
    }
  }

  ruleGiven() {
    const value = (name) => {
      const text = this.form.elements[name].value.trim();
      return text === "" ? null : Number(text);
    };
    return { n: value("n"), d: value("d") };
  }

  async draw() {
    const { i18n } = this;
    const result = this.form.querySelector(".spot-draw-result");
    const button = this.form.querySelector("button[type=submit]");
    const fields = this.form.elements;
    const body = { unit: this.code, population: fields.population.value };
    // Local days, as the Appendix I period reads them: from the start of the first day to the end
    // of the last, which is now when the last day is today (the API takes no moment to come).
    if (fields.from.value) body.from = `${fields.from.value}T00:00:00+07:00`;
    if (fields.to.value && fields.to.value < localDay(0)) body.to = `${nextDay(fields.to.value)}T00:00:00+07:00`;
    const { n, d } = this.ruleGiven();
    if (n !== null) body.n = n;
    if (d !== null) body.d = d;
    button.disabled = true;
    result.className = "spot-draw-result";
    result.textContent = "…";
    try {
      const response = await fetch("/v1/spot-checks", {
        method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (response.ok) {
        const check = await response.json();
        result.className = "spot-draw-result saved";
        result.innerHTML = `${esc(i18n.t("spotDrawn", { id: check.id }))} ${html.checkLink(check, i18n, i18n.t("spotVerify"))}`;
        // The new check joins the open list now, not at the board's next refresh.
        await this.refresh(this.getResponse, { force: true });
        if (this.container.isConnected) this.render(this.i18n, this.progress);
      } else {
        result.className = "spot-draw-result failed";
        result.textContent = await refusal(response);
      }
    } catch (error) {
      result.className = "spot-draw-result failed";
      result.textContent = String(error.message || error);
    } finally {
      button.disabled = false;
    }
  }
}

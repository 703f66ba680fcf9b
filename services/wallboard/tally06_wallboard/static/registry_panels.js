// The registry panels of a unit's view: claimed vs confirmed, the funnel, backlog goals, outcome
// reasons and the work list. Each panel has its own endpoint and fails on its own: an endpoint
// that is not there (404, a server older than the board) or not for this user (403) leaves its
// panel saying so, and never takes the unit's main figures down with it.

import * as html from "./registry_views.js";
import { esc } from "./views.js";

export const WORKLIST = "approved_not_activated";
// A list moves with registry extracts and recorded outcomes, not with claims: a live board that
// refreshes on every claim fetches it when the view opens and then at most this often.
const WORKLIST_EVERY_MS = 120_000;
// The board shows the longest waiting few; the work-list page has them all.
const WORKLIST_ROWS = 12;

// Fetches a panel's answer: null when the endpoint refuses (any 4xx), the error otherwise.
export async function optionalJSON(getResponse, path) {
  const response = await getResponse(path);
  if (response.status === 401) location.reload(); // the session ended: sign in again
  if (response.status >= 400 && response.status < 500) return { answer: null, status: response.status };
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return { answer: await response.json(), status: response.status };
}

export class RegistryPanels {
  constructor(container, code, { tv }) {
    this.code = code;
    this.tv = tv;
    this.answers = {}; // the last answer of each panel, kept through a failed fetch
    this.worklistAt = 0;
    container.innerHTML = `
      <section class="panel confirmation-panel"><h2 id="confirmation-title"></h2><div id="confirmation" data-testid="confirmation"></div></section>
      <section class="panel funnel-panel"><h2 id="funnel-title"></h2><div id="funnel" data-testid="funnel"></div></section>
      <section class="panel goals-panel"><h2 id="goals-title"></h2><div id="goals" data-testid="goals"></div></section>
      <section class="panel reasons-panel"><h2 id="reasons-title"></h2><div id="reasons" data-testid="reasons"></div></section>
      <section class="panel worklist-panel" id="worklist-panel" data-testid="worklist-panel" hidden><h2 id="worklist-title"></h2><div id="worklist" data-testid="worklist"></div></section>`;
  }

  async refresh(getResponse) {
    const code = encodeURIComponent(this.code);
    const wanted = {
      confirmation: `/v1/units/${code}/confirmation`,
      funnel: `/v1/units/${code}/funnel`,
      goals: `/v1/units/${code}/goals`,
      reasons: `/v1/units/${code}/outcome-reasons`,
    };
    // Never on a wall screen: nobody calls citizens from a room's screen. The board asks the
    // masked list (no names, phones masked): names and phones in clear are opened, and audited,
    // on the work-list page where a team records what it found; a board open all day would
    // otherwise log a clear view every few minutes.
    const listDue = !this.tv && Date.now() - this.worklistAt >= WORKLIST_EVERY_MS;
    if (listDue) {
      wanted.worklist = `/v1/worklists?${new URLSearchParams({ unit: this.code, list: WORKLIST, limit: WORKLIST_ROWS })}`;
    }
    await Promise.all(
      Object.entries(wanted).map(async ([panel, path]) => {
        try {
          this.answers[panel] = await optionalJSON(getResponse, path);
          if (panel === "worklist") this.worklistAt = Date.now();
        } catch (error) {
          // Keep what the panel showed; the unit's main figures say whether the server is well.
        }
      }),
    );
  }

  render(i18n, unitName) {
    const answer = (panel) => this.answers[panel]?.answer ?? null;
    const set = (id, text, markup) => {
      document.getElementById(`${id}-title`).textContent = text;
      document.getElementById(id).innerHTML = markup;
    };
    set("confirmation", i18n.t("confirmationTitle", { name: unitName }), html.confirmation(answer("confirmation"), i18n));
    set("funnel", i18n.t("funnelTitle", { name: unitName }), html.funnel(answer("funnel"), i18n));
    set("goals", i18n.t("goalsTitle"), html.goals(answer("goals"), i18n));
    set("reasons", i18n.t("reasonsTitle"), html.reasons(answer("reasons"), i18n));
    const list = this.answers.worklist;
    const panel = document.getElementById("worklist-panel");
    // 403: this user's role sees no lists, so there is no panel at all.
    panel.hidden = !list || list.status === 403;
    if (panel.hidden) return;
    const reasonWords = Object.fromEntries((answer("reasons")?.reasons ?? []).map((r) => [r.reason, r]));
    // The list's title comes with the answer (the work lists' own words); before, the board's.
    const title = list.answer?.[i18n.lang === "en" ? "title_en" : "title_vi"] ?? html.listWord(WORKLIST, i18n);
    set("worklist", i18n.t("worklistTitle", { list: title }),
      list.answer
        ? html.worklist(list.answer, i18n, { unit: this.code, reasonWords, limit: WORKLIST_ROWS })
        : `<p class="empty" data-testid="worklist-unavailable">${esc(i18n.t("notAvailable"))}</p>${html.worklistLink(this.code, WORKLIST, i18n)}`);
  }

  // The confirmed activations per day, for the trend chart; null when the endpoint is missing.
  confirmedDays() {
    return this.answers.confirmation?.answer?.days ?? null;
  }
}

// A team lead's work list: the citizens of the team's area the registry shows approved but not
// activated (or collected but not approved), longest waiting first, with a phone to call and a
// reason to record. Everything comes from the read API: the list from /v1/worklists, the words
// of the reasons from /v1/worklists/reasons (tally06.domain.work_lists). Names come from the
// registry, so they are only ever set as text, never as HTML.

import { ensureSignedIn, keepSessionAlive } from "/static/session.js";

const CLEAR_ROLES = new Set(["team_lead", "commune_focal"]); // domain/work_lists.py CLEAR_ROLES
const PAGE = 200;
const LONG_WAIT_DAYS = 14;

const WORDS = {
  vi: {
    title: "Danh sách công việc", list: "Danh sách", export: "Tải Excel", lang: "English",
    approved_not_activated: "Đã phê duyệt, chưa kích hoạt", collected_not_approved: "Đã thu nhận, chưa phê duyệt",
    name: "Họ và tên", phone: "Số điện thoại", village: "Thôn/tổ dân phố", team: "Tổ công tác", status: "Trạng thái",
    days: "Số ngày chờ", outcome: "Kết quả liên hệ", choose: "— chọn —", save: "Lưu", saved: "Đã lưu",
    approved: "Đã phê duyệt", collected: "Đã thu nhận", more: "Xem thêm", none: "Không còn công dân nào trong danh sách.",
    summary: "{unit}: {total} công dân, hiển thị {shown}", masked: " (dữ liệu cá nhân đã che)",
    signInTitle: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu", signIn: "Đăng nhập",
    signInWrong: "Sai tên đăng nhập hoặc mật khẩu", signInLocked: "Thử lại sau {n} giây",
  },
  en: {
    title: "Work list", list: "List", export: "Download Excel", lang: "Tiếng Việt",
    approved_not_activated: "Approved, not activated", collected_not_approved: "Collected, not approved",
    name: "Name", phone: "Phone", village: "Village", team: "Team", status: "Status", days: "Days waiting",
    outcome: "Outcome", choose: "— choose —", save: "Save", saved: "Saved", approved: "Approved",
    collected: "Collected", more: "Show more", none: "Nobody is left on this list.",
    summary: "{unit}: {total} citizens, {shown} shown", masked: " (personal data masked)",
    signInTitle: "Sign in", username: "Username", password: "Password", signIn: "Sign in",
    signInWrong: "Wrong username or password", signInLocked: "Try again in {n} seconds",
  },
};

const params = new URLSearchParams(location.search);
let lang = params.get("lang") === "en" ? "en" : "vi";
const i18n = { t: (key, values = {}) => (WORDS[lang][key] || key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "") };
const $ = (id) => document.getElementById(id);
const state = { me: null, unit: null, list: params.get("list") || "approved_not_activated", reasons: [], items: [],
                total: 0, clear: false };

function cell(row, content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (content instanceof Node) td.append(content); else td.textContent = content ?? "";
  row.append(td);
  return td;
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const detail = (body.detail && body.detail[0]) || {};
    throw new Error(`${detail.field || path}: ${detail.message || "HTTP " + response.status}`);
  }
  return response.json();
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
  $("error").hidden = !error;
}

function outcomeControl(item) {
  const box = document.createElement("div");
  box.className = "outcome";
  const select = document.createElement("select");
  select.dataset.testid = "outcome-reason";
  const empty = new Option(i18n.t("choose"), "");
  select.append(empty, ...state.reasons.map((r) => new Option(r[lang], r.reason)));
  select.value = item.outcome ? item.outcome.reason : "";
  const note = document.createElement("span");
  if (!state.me || !CLEAR_ROLES.has(state.me.role)) {
    select.disabled = true; // the district and province read reasons; the teams record them
    box.append(select);
    return box;
  }
  select.addEventListener("change", async () => {
    if (!select.value) return;
    note.className = ""; note.textContent = "…";
    const response = await fetch("/v1/worklists/outcomes", {
      method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ref: item.ref, reason: select.value }),
    });
    if (response.ok) {
      item.outcome = await response.json();
      note.className = "saved"; note.textContent = i18n.t("saved");
    } else {
      const body = await response.json().catch(() => ({}));
      note.className = "failed";
      note.textContent = (body.detail && body.detail[0] && body.detail[0].message) || `HTTP ${response.status}`;
    }
  });
  box.append(select, note);
  return box;
}

function phoneLink(item) {
  if (!item.phone) return "";
  if (!state.clear) return item.phone; // masked: nothing to call
  const link = document.createElement("a");
  link.className = "tel";
  link.href = `tel:${item.phone.replace(/[^0-9+]/g, "")}`;
  link.textContent = item.phone;
  link.dataset.testid = "worklist-phone";
  return link;
}

function render() {
  document.documentElement.lang = lang;
  $("title").textContent = i18n.t("title");
  $("list-label").textContent = `${i18n.t("list")}: `;
  for (const option of $("list").options) option.textContent = i18n.t(option.value);
  $("list").value = state.list;
  $("lang-toggle").textContent = i18n.t("lang");
  $("more").textContent = i18n.t("more");
  $("export").textContent = i18n.t("export");
  const query = new URLSearchParams({ list: state.list, clear: state.clear });
  if (state.unit) query.set("unit", state.unit);
  $("export").href = `/v1/worklists.xlsx?${query}`;
  $("head").replaceChildren(...["name", "phone", "village", "team", "status", "days", "outcome"].map((key) => {
    const th = document.createElement("th");
    th.textContent = i18n.t(key);
    return th;
  }));
  $("summary").textContent = state.items.length || state.total
    ? i18n.t("summary", { unit: state.unit, total: state.total, shown: state.items.length })
      + (state.clear ? "" : i18n.t("masked"))
    : i18n.t("none");
  $("rows").replaceChildren(...state.items.map((item) => {
    const row = document.createElement("tr");
    row.dataset.testid = "worklist-row";
    row.dataset.ref = item.ref;
    cell(row, item.full_name || "—");
    cell(row, phoneLink(item));
    cell(row, item.village || item.commune);
    cell(row, item.team || "—");
    cell(row, i18n.t(item.status));
    cell(row, item.days_waiting ?? "", item.days_waiting >= LONG_WAIT_DAYS ? "days long" : "days");
    cell(row, outcomeControl(item));
    return row;
  }));
  $("more").hidden = state.items.length >= state.total;
}

async function load(append = false) {
  const query = new URLSearchParams({ list: state.list, clear: state.clear, limit: PAGE,
                                      offset: append ? state.items.length : 0 });
  if (state.unit) query.set("unit", state.unit);
  try {
    const answer = await getJson(`/v1/worklists?${query}`);
    state.unit = answer.unit;
    state.total = answer.total;
    state.items = append ? state.items.concat(answer.items) : answer.items;
    showError(null);
  } catch (error) {
    showError(error);
  }
  render();
}

async function start() {
  state.me = await ensureSignedIn($("sign-in"), i18n);
  keepSessionAlive();
  $("view").hidden = false;
  $("who").textContent = `${state.me.display_name || state.me.username} · ${state.me.unit}`;
  state.unit = params.get("unit") || state.me.unit;
  // Names and phones only for those who call; every clear view is audited by the server.
  state.clear = CLEAR_ROLES.has(state.me.role);
  try {
    state.reasons = await getJson("/v1/worklists/reasons");
  } catch (error) {
    showError(error);
  }
  $("list").addEventListener("change", () => { state.list = $("list").value; load(); });
  $("more").addEventListener("click", () => load(true));
  $("lang-toggle").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; render(); });
  await load();
}

start();

// Every string the board shows, Vietnamese first; English is switched on with ?lang=en or the
// language button. Unit names come from the org registry and are never translated; the names of
// kinds and levels ("Cấp xã", "Communes") come from the read API (GET /v1/kinds, whose words
// live in tally06.domain.org.KIND_WORDS), so none is written here.

export const STRINGS = {
  vi: {
    title: "Đề án 06 — Kích hoạt tài khoản định danh điện tử",
    switchLang: "English",
    live: "Trực tiếp",
    connecting: "Đang kết nối…",
    reconnecting: "Mất kết nối — đang kết nối lại…",
    feedDown: "Máy chủ chưa nhận được số liệu mới",
    lastUpdate: "Cập nhật lúc {time}",
    age: "số liệu cách đây {n} giây",
    never: "chưa có số liệu",
    stale: "SỐ LIỆU CŨ — không được cập nhật từ {time}. Các con số dưới đây có thể không còn đúng.",
    staleNever: "CHƯA CÓ SỐ LIỆU — đang chờ máy chủ.",
    today: "Hôm nay",
    activated: "đã kích hoạt",
    target: "chỉ tiêu",
    paceMarker: "mốc tiến độ lúc này: {n}",
    behind: "Chậm tiến độ",
    onPace: "Đúng tiến độ",
    noTarget: "Chưa giao chỉ tiêu ngày",
    cumulative: "Lũy kế",
    campaignTarget: "chỉ tiêu chiến dịch",
    noCampaignTarget: "Chưa giao chỉ tiêu chiến dịch",
    completion: "Tỷ lệ hoàn thành",
    level1: "Mức 1",
    level2: "Mức 2",
    remaining: "Còn lại",
    requiredRate: "Cần mỗi ngày",
    deadline: "hạn {date}",
    daysLeft: "còn {n} ngày",
    deadlinePassed: "đã quá hạn",
    forecast: "Dự báo hoàn thành",
    forecastNever: "không hoàn thành với tốc độ hiện tại",
    runRate: "tốc độ {n} ngày qua: {rate}/ngày",
    claims: "Trùng lặp",
    claimsDetail: "hôm nay {today} · tổng {total}",
    rankingOf: "Xếp hạng {kinds}",
    rankedByCompletion: "theo tỷ lệ hoàn thành chỉ tiêu chiến dịch",
    rankedByActivated: "theo số tài khoản đã kích hoạt",
    rank: "Hạng",
    change: "Đổi",
    unit: "Đơn vị",
    todayVsTarget: "Hôm nay / chỉ tiêu",
    status: "Trạng thái",
    noChildren: "Không có đơn vị cấp dưới",
    trend: "Xu hướng 14 ngày — {name}",
    trendActivated: "Đã kích hoạt",
    trendTarget: "Chỉ tiêu ngày",
    alerts: "Cảnh báo đang mở",
    noAlerts: "Không có cảnh báo",
    acknowledgedBy: "đã xác nhận: {by}",
    leaderboard: "Bảng xếp hạng {kinds} toàn {where}",
    moreRows: "… và {n} đơn vị khác",
    loadFailed: "Không tải được số liệu: {error}",
    noUnit: "Đơn vị {unit} không có trong bản đồ hành chính đang dùng; đề nghị quản trị viên gán lại đơn vị.",
    signInTitle: "Đăng nhập",
    username: "Tên đăng nhập",
    password: "Mật khẩu",
    signIn: "Đăng nhập",
    signOut: "Đăng xuất",
    signInWrong: "Sai tên đăng nhập hoặc mật khẩu",
    signInLocked: "Nhập sai quá nhiều lần — thử lại sau {n} giây",
    rule_pace: "Chậm tiến độ trong ngày",
    rule_missed_daily: "Không đạt chỉ tiêu ngày",
    rule_silent: "Không có hoạt động",
    rule_low_confirmation: "Tỷ lệ xác nhận kích hoạt thấp",
    legend: "Màu theo tỷ lệ hoàn thành: ≥ 100 % · ≥ 70 % · ≥ 40 % · < 40 %",
  },
  en: {
    title: "Project 06 — Electronic identity activation",
    switchLang: "Tiếng Việt",
    live: "Live",
    connecting: "Connecting…",
    reconnecting: "Connection lost — reconnecting…",
    feedDown: "The server is not receiving new figures",
    lastUpdate: "Updated at {time}",
    age: "data {n} s old",
    never: "no data yet",
    stale: "STALE DATA — not updated since {time}. The figures below may no longer be right.",
    staleNever: "NO DATA YET — waiting for the server.",
    today: "Today",
    activated: "activated",
    target: "target",
    paceMarker: "pace marker now: {n}",
    behind: "Behind pace",
    onPace: "On pace",
    noTarget: "No daily target set",
    cumulative: "Cumulative",
    campaignTarget: "campaign target",
    noCampaignTarget: "No campaign target set",
    completion: "Completion",
    level1: "Level 1",
    level2: "Level 2",
    remaining: "Remaining",
    requiredRate: "Needed per day",
    deadline: "deadline {date}",
    daysLeft: "{n} days left",
    deadlinePassed: "passed",
    forecast: "Forecast completion",
    forecastNever: "not at the current rate",
    runRate: "last {n} days: {rate}/day",
    claims: "Duplicate claims",
    claimsDetail: "today {today} · total {total}",
    rankingOf: "Ranking of {kinds}",
    rankedByCompletion: "by completion of the campaign target",
    rankedByActivated: "by accounts activated",
    rank: "Rank",
    change: "Δ",
    unit: "Unit",
    todayVsTarget: "Today / target",
    status: "Status",
    noChildren: "No sub-units",
    trend: "14-day trend — {name}",
    trendActivated: "Activated",
    trendTarget: "Daily target",
    alerts: "Open alerts",
    noAlerts: "No open alerts",
    acknowledgedBy: "acknowledged: {by}",
    leaderboard: "Leaderboard of {kinds} in {where}",
    moreRows: "… and {n} more units",
    loadFailed: "Could not load the figures: {error}",
    noUnit: "Unit {unit} is not in the administrative map in use; ask an administrator to assign another unit.",
    signInTitle: "Sign in",
    username: "Username",
    password: "Password",
    signIn: "Sign in",
    signOut: "Sign out",
    signInWrong: "Wrong username or password",
    signInLocked: "Too many wrong passwords — try again in {n} seconds",
    rule_pace: "Behind pace today",
    rule_missed_daily: "Missed daily target",
    rule_silent: "No activity",
    rule_low_confirmation: "Low confirmation rate",
    legend: "Colour by completion: ≥ 100 % · ≥ 70 % · ≥ 40 % · < 40 %",
  },
};

const LOCALES = { vi: "vi-VN", en: "en-GB" };
// Figures are about Vietnamese local days, whatever time zone the screen's computer is set to.
const TZ = "Asia/Ho_Chi_Minh";

// `kinds` is the list of GET /v1/kinds; before it is loaded a kind is shown by its code.
export function makeI18n(lang, kinds = []) {
  const strings = STRINGS[lang] || STRINGS.vi;
  const locale = LOCALES[lang] || LOCALES.vi;
  const words = Object.fromEntries(kinds.map((k) => [k.kind, k.words]));
  const english = lang === "en";
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimals = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const times = new Intl.DateTimeFormat(locale, { timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const dates = new Intl.DateTimeFormat(locale, { timeZone: "UTC", day: "2-digit", month: "2-digit", year: "numeric" });
  const shortDates = new Intl.DateTimeFormat(locale, { timeZone: "UTC", day: "2-digit", month: "2-digit" });
  const t = (key, vars = {}) =>
    (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => (name in vars ? vars[name] : `{${name}}`));
  return {
    lang,
    t,
    // The level a unit sits at, before its name in breadcrumbs: "Cấp xã" / "Commune".
    kind: (kind) => (words[kind] ? (english ? words[kind].en : words[kind].vi_level) : kind),
    // The ranked units inside a sentence: "cấp xã" / "communes".
    level: (kind) => {
      const text = words[kind] ? (english ? words[kind].en_level : words[kind].vi_level) : kind;
      return text.charAt(0).toLocaleLowerCase(locale) + text.slice(1);
    },
    num: (n) => (n === null || n === undefined ? "—" : numbers.format(n)),
    pct: (p) => (p === null || p === undefined ? "—" : `${decimals.format(p)} %`),
    time: (ms) => times.format(new Date(ms)),
    // API dates are local days ("2026-11-23"): format them as calendar dates, not instants.
    date: (iso) => (iso ? dates.format(new Date(`${iso}T00:00:00Z`)) : "—"),
    shortDate: (iso) => shortDates.format(new Date(`${iso}T00:00:00Z`)),
  };
}

// Sign-in for the board. The session lives in an HttpOnly cookie set by the server (the
// EventSource sends it too); this module only asks who is signed in, shows the form when
// nobody is, renews the short-lived session while the board is open, and signs out.

const RENEW_MS = 5 * 60 * 1000; // sessions last 15 minutes; renew well before

async function post(path, body) {
  return fetch(path, {
    method: "POST", cache: "no-store",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
}

function form(view, i18n) {
  view.innerHTML = `
    <form class="sign-in" data-testid="sign-in">
      <h2>${i18n.t("signInTitle")}</h2>
      <input name="username" autocomplete="username" placeholder="${i18n.t("username")}" required data-testid="username">
      <input name="password" type="password" autocomplete="current-password" placeholder="${i18n.t("password")}" required data-testid="password">
      <button type="submit" data-testid="sign-in-button">${i18n.t("signIn")}</button>
      <p class="error" data-testid="sign-in-error" hidden></p>
    </form>`;
  return view.querySelector("form");
}

// Resolves with the signed-in user, showing the sign-in form first if needed.
export async function ensureSignedIn(view, i18n) {
  const me = await fetch("/v1/auth/me", { cache: "no-store" });
  if (me.ok) return me.json();
  if (me.status !== 401) throw new Error(`/v1/auth/me: HTTP ${me.status}`);
  const element = form(view, i18n);
  return new Promise((resolve) => {
    element.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(element);
      const response = await post("/v1/auth/token", { username: data.get("username"), password: data.get("password") });
      if (response.ok) {
        view.innerHTML = "";
        resolve((await response.json()).user);
        return;
      }
      const error = element.querySelector(".error");
      const wait = response.headers.get("Retry-After");
      error.textContent = response.status === 429 ? i18n.t("signInLocked", { n: wait }) : i18n.t("signInWrong");
      error.hidden = false;
    });
  });
}

export function keepSessionAlive() {
  setInterval(async () => {
    const response = await post("/v1/auth/refresh").catch(() => null);
    if (response && response.status === 401) location.reload(); // ended elsewhere: sign in again
  }, RENEW_MS);
}

export async function signOut() {
  await post("/v1/auth/sign-out").catch(() => null);
  location.reload();
}

// An announcement's progress page: ask the console's API once a second and update the counts
// in place until the announcement is sent. Without this script the page shows the counts as
// they were when it was loaded (reload for newer ones).
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("[data-progress-url]");
  if (!panel) return;
  const url = panel.dataset.progressUrl;
  const words = JSON.parse(panel.dataset.statusWords || "{}");
  const fields = ["matched", "to_send", "delivered", "unreachable", "failed", "unknown", "left", "rate"];
  const status = document.getElementById("status");
  const FINISHED = ["done", "cancelled"];

  async function refresh() {
    let state;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return true; // logged out or gone: keep the last counts, try again
      state = await response.json();
    } catch (error) {
      return true; // the gateway is restarting: try again
    }
    for (const name of fields) {
      const element = document.getElementById(name);
      if (element && String(state[name]) !== element.textContent) element.textContent = String(state[name]);
    }
    const rateLabel = document.getElementById("rate-label");
    if (rateLabel) rateLabel.textContent = state.rate_is_average ? rateLabel.dataset.average : rateLabel.dataset.now;
    if (status) {
      status.dataset.status = state.status;
      status.textContent = words[state.status] || state.status;
    }
    // A worker took it: it can no longer be cancelled (the server refuses it too).
    const cancelForm = document.getElementById("cancel-form");
    if (cancelForm && state.status !== "scheduled") cancelForm.hidden = true;
    return !FINISHED.includes(state.status);
  }

  async function loop() {
    if (await refresh()) setTimeout(loop, 1000);
  }
  if (status && !FINISHED.includes(status.dataset.status)) setTimeout(loop, 1000);
});

// The web chat: posts to /api/chat, renders replies (text, cards, buttons, location requests),
// polls /api/updates for announcements (long-polls while the help desk has the chat), and
// speaks the citizen's language (RTL for Arabic).
"use strict";
(function () {
  const WORDS = window.LEARNCITY_I18N;
  const SUPPORTED = Object.keys(WORDS);
  const RTL = new Set(["ar"]);
  const params = new URLSearchParams(window.location.search);
  const POLL_SECONDS = Math.max(1, Number(params.get("poll")) || 20);
  const SEND_ATTEMPTS = 3; // a message is sent again (same id) after a network error

  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const picker = document.getElementById("language");
  const locate = document.getElementById("locate");
  let sessionId = sessionStorage.getItem("learncity-session") || "";
  let cursor = Number(sessionStorage.getItem("learncity-cursor") || 0);
  let pending = 0;

  // ---- language -------------------------------------------------------------------------
  function initialLanguage() {
    const saved = localStorage.getItem("learncity-language");
    if (saved && SUPPORTED.includes(saved)) return saved;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const base = String(tag).toLowerCase().split("-")[0];
      if (SUPPORTED.includes(base)) return base;
    }
    return "en";
  }

  function t(key) {
    return (WORDS[picker.value] || WORDS.en)[key] || WORDS.en[key] || key;
  }

  function applyLanguage() {
    const language = picker.value;
    document.documentElement.lang = language;
    document.documentElement.dir = RTL.has(language) ? "rtl" : "ltr";
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    });
    localStorage.setItem("learncity-language", language);
  }

  function markLanguage(node, language) {
    if (!language) { node.dir = "auto"; return; }
    node.lang = language;
    node.dir = RTL.has(language) ? "rtl" : "ltr";
  }

  // ---- rendering ------------------------------------------------------------------------
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function addMessage(role, build) {
    const item = element("li", "msg " + role);
    const who = role === "citizen" ? "you" : ["announcement", "helpdesk"].includes(role) ? role : "assistant";
    // Who is speaking, for screen readers; announcements and the help desk say so visibly too.
    const visible = role === "announcement" || role === "helpdesk";
    item.appendChild(element("span", visible ? "label" : "visually-hidden", t(who) + " "));
    build(item);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function addText(role, text) {
    return addMessage(role, (item) => {
      const p = element("p", "text", text);
      p.dir = "auto";
      item.appendChild(p);
    });
  }

  function formatDistance(metres) {
    const format = (value, digits) => new Intl.NumberFormat(picker.value, { maximumFractionDigits: digits }).format(value);
    return metres < 1000 ? format(Math.round(metres), 0) + " m" : format(metres / 1000, 1) + " km";
  }

  function renderCard(card, index, replyId) {
    const li = element("li", "card");
    const headingId = replyId + "-card-" + index;
    const heading = element("h3");
    heading.id = headingId;
    if (card.url) {
      const link = element("a", null, card.name);
      link.href = card.url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      heading.appendChild(link);
    } else {
      heading.textContent = card.name;
    }
    heading.dir = "auto";
    li.setAttribute("aria-labelledby", headingId);
    li.appendChild(heading);
    if (card.type && WORDS.en[card.type]) li.appendChild(element("p", "kind", t(card.type)));
    const cost = card.free === true ? t("free") : (card.price || "");
    const facts = [
      ["where", card.place],
      ["when", card.schedule],
      ["cost", cost],
      ["distance", card.distance_m != null ? formatDistance(card.distance_m) : ""],
    ].filter(([, value]) => value);
    if (facts.length) {
      const list = element("dl", "facts");
      for (const [key, value] of facts) {
        list.appendChild(element("dt", null, t(key)));
        const dd = element("dd", key === "cost" && card.free === true ? "free" : null, value);
        dd.dir = "auto";
        list.appendChild(dd);
      }
      li.appendChild(list);
    }
    return li;
  }

  let replyCount = 0;
  function renderReply(reply, role) {
    const replyId = "reply-" + (++replyCount);
    return addMessage(role || "assistant", (item) => {
      item.id = replyId;
      markLanguage(item, reply.language);
      if (reply.text) item.appendChild(element("p", "text", reply.text));
      if (reply.cards && reply.cards.length) {
        const list = element("ul", "cards");
        list.setAttribute("aria-label", t("results") + " (" + reply.cards.length + ")");
        reply.cards.forEach((card, index) => list.appendChild(renderCard(card, index, replyId)));
        item.appendChild(list);
      }
      const choices = reply.buttons || [];
      if (choices.length || reply.request_location) {
        const group = element("div", "choices");
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", t("choices"));
        choices.forEach((choice) => {
          const button = element("button", "choice", choice.title);
          button.type = "button";
          button.dir = "auto";
          button.addEventListener("click", () => send({ payload: choice.payload }, choice.title, true));
          group.appendChild(button);
        });
        if (reply.request_location) group.appendChild(locationButton("choice"));
        item.appendChild(group);
      }
    });
  }

  function locationButton(className) {
    const button = element("button", className);
    button.type = "button";
    button.appendChild(locate.querySelector("svg").cloneNode(true));
    button.appendChild(document.createTextNode(" " + t("locate")));
    button.addEventListener("click", () => shareLocation(true));
    return button;
  }

  // ---- talking to the gateway -------------------------------------------------------------
  function setBusy(delta) {
    pending += delta;
    log.setAttribute("aria-busy", pending > 0 ? "true" : "false");
    status.textContent = pending > 0 ? t("waiting") : "";
  }

  function remember(id) {
    if (!id || id === sessionId) return;
    sessionId = id;
    sessionStorage.setItem("learncity-session", sessionId);
    cursor = 0; // a new session has its own outbox
    sessionStorage.setItem("learncity-cursor", "0");
  }

  // Ids chosen here, so that a message resent after a network error is the same message: the
  // gateway answers it once and gives the retry the first answer (bot/channels/web_turns.py).
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  async function postOnce(body) {
    const request = {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch("/api/chat", request);
      } catch (error) {
        if (attempt >= SEND_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      }
    }
  }

  // `fromChoice`: the citizen pressed a button, so focus follows the conversation.
  async function send(body, shown, fromChoice) {
    if (shown) addText("citizen", shown);
    if (!sessionId) remember(newId());
    body.session_id = sessionId;
    body.message_id = newId();
    body.language = picker.value;
    setBusy(1);
    const rendered = [];
    try {
      const response = await postOnce(body);
      const data = await response.json();
      if (!response.ok) { addText("assistant", data.error || t("unreachable")); return; }
      remember(data.session_id);
      setHandover(data.poll_seconds);
      data.replies.forEach((reply) => rendered.push(renderReply(reply)));
    } catch (error) {
      addText("assistant", t("unreachable"));
    } finally {
      setBusy(-1);
      moveFocus(rendered, fromChoice);
    }
  }

  // After a typed message the citizen keeps typing; after a button press, focus goes to the
  // new answer's first button when it asks a choice, else back to the message box.
  function moveFocus(rendered, fromChoice) {
    if (!fromChoice) { if (document.activeElement === document.body) input.focus(); return; }
    const next = rendered.map((item) => item.querySelector("button")).find(Boolean);
    (next || input).focus();
  }

  function shareLocation(fromChoice) {
    if (!navigator.geolocation) { addText("assistant", t("noGeolocation")); return; }
    navigator.geolocation.getCurrentPosition(
      (position) => send(
        { location: { latitude: position.coords.latitude, longitude: position.coords.longitude } },
        t("myLocation"), fromChoice,
      ),
      () => { addText("assistant", t("locationFailed")); input.focus(); },
      { timeout: 15000, maximumAge: 60000 },
    );
  }

  // Returns whether the gateway answered, so a failing poll is retried after a pause.
  async function pollUpdates(waitSeconds) {
    if (!sessionId || document.hidden) return false;
    try {
      const query = new URLSearchParams({ session_id: sessionId, after: String(cursor) });
      if (waitSeconds) query.set("wait", String(waitSeconds));
      const response = await fetch("/api/updates?" + query);
      if (!response.ok) return false;
      const data = await response.json();
      // While the help desk has the chat, what arrives is a person's answer, not an announcement.
      const from = data.poll_seconds || handover ? "helpdesk" : "announcement";
      data.replies.forEach((reply) => renderReply(reply, from));
      cursor = data.cursor;
      sessionStorage.setItem("learncity-cursor", String(cursor));
      setHandover(data.poll_seconds);
      return true;
    } catch (error) {
      return false; // the next poll tries again; the conversation reports unreachable servers
    }
  }

  // The gateway says `poll_seconds` while a person of the help desk has the chat. The page then
  // long-polls: it asks with `wait`, the gateway answers as soon as an answer is sent (or after
  // LONG_POLL_SECONDS with nothing), and the page asks again at once. Otherwise it polls at its
  // own pace. One request at a time: the running one schedules the next.
  const LONG_POLL_SECONDS = 25;
  let handover = false;
  let inFlight = false;
  let pollTimer = 0;
  function schedulePoll(seconds) {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(pollAndReschedule, seconds * 1000);
  }
  async function pollAndReschedule() {
    if (inFlight) return;
    inFlight = true;
    let answered = false;
    try {
      answered = await pollUpdates(handover ? LONG_POLL_SECONDS : 0);
    } finally {
      inFlight = false;
    }
    schedulePoll(!handover ? POLL_SECONDS : answered ? 0 : 1);
  }
  function setHandover(pollSeconds) {
    const next = Boolean(pollSeconds);
    if (next === handover) return;
    handover = next;
    if (handover && !inFlight) schedulePoll(0);
  }

  // ---- wiring ---------------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text, false);
    input.focus();
  });
  locate.addEventListener("click", () => shareLocation(false));
  picker.addEventListener("change", applyLanguage);
  picker.value = initialLanguage();
  applyLanguage();
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !inFlight) schedulePoll(0); });
  schedulePoll(0);
  input.focus();
})();

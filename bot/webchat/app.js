// The web chat: posts to /api/chat and renders replies (text, cards, buttons, location requests).
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const language = document.getElementById("language");
  const locate = document.getElementById("locate");
  let sessionId = sessionStorage.getItem("learncity-session") || "";

  function add(role, build) {
    const item = document.createElement("li");
    item.className = "msg " + role;
    build(item);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function addText(role, text, lang) {
    return add(role, (item) => {
      item.textContent = text;
      if (lang) { item.lang = lang; if (lang === "ar") item.dir = "rtl"; }
    });
  }

  function renderCard(card) {
    const li = document.createElement("li");
    li.className = "card";
    const title = document.createElement("h3");
    title.textContent = card.name;
    li.appendChild(title);
    const lines = [card.place, card.schedule,
      card.free === true ? "Free / 免费" : (card.price || ""),
      card.distance_m != null ? Math.round(card.distance_m) + " m" : ""];
    for (const line of lines.filter(Boolean)) {
      const p = document.createElement("p");
      p.textContent = line;
      li.appendChild(p);
    }
    return li;
  }

  function renderReply(reply) {
    add("assistant", (item) => {
      if (reply.language) { item.lang = reply.language; if (reply.language === "ar") item.dir = "rtl"; }
      if (reply.text) { const p = document.createElement("p"); p.textContent = reply.text; item.appendChild(p); }
      if (reply.cards && reply.cards.length) {
        const list = document.createElement("ul");
        list.className = "cards";
        list.setAttribute("aria-label", "Results");
        reply.cards.forEach((card) => list.appendChild(renderCard(card)));
        item.appendChild(list);
      }
      const choices = (reply.buttons || []).slice();
      if (choices.length || reply.request_location) {
        const group = document.createElement("div");
        group.className = "choices";
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", "Choices");
        choices.forEach((choice) => {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = choice.title;
          button.addEventListener("click", () => send({ payload: choice.payload }, choice.title));
          group.appendChild(button);
        });
        if (reply.request_location) {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = "📍 " + locate.textContent.replace("📍", "").trim();
          button.addEventListener("click", shareLocation);
          group.appendChild(button);
        }
        item.appendChild(group);
      }
    });
  }

  async function send(body, shown) {
    if (shown) addText("citizen", shown);
    body.session_id = sessionId || undefined;
    body.language = language.value || navigator.language || "";
    try {
      const response = await fetch("/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const data = await response.json();
      if (!response.ok) { addText("assistant", data.error || "Something went wrong."); return; }
      sessionId = data.session_id;
      sessionStorage.setItem("learncity-session", sessionId);
      data.replies.forEach(renderReply);
    } catch (error) {
      addText("assistant", "The assistant cannot be reached. Please try again in a moment.");
    }
  }

  function shareLocation() {
    if (!navigator.geolocation) { addText("assistant", "Your browser cannot share a location."); return; }
    navigator.geolocation.getCurrentPosition(
      (position) => send({ location: { latitude: position.coords.latitude, longitude: position.coords.longitude } }, "📍"),
      () => addText("assistant", "The location could not be read. You can type your district instead."),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text);
    input.focus();
  });
  locate.addEventListener("click", shareLocation);
  language.addEventListener("change", () => { document.documentElement.lang = language.value || "en"; });
  input.focus();
})();

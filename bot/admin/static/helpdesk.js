// The help desk's live updates: polls /admin/api/helpdesk every 1.5 s and redraws the queue,
// the staff member's chats and the open chat's messages, without reloading the page.
// Built with textContent only (never innerHTML), so what a citizen wrote is never markup.
// Without this script the pages still work: each form posts and the page reloads.
(() => {
  const POLL_MS = 1500;
  const root = document.getElementById("helpdesk") || document.getElementById("helpdesk-chat");
  const wordsNode = document.getElementById("helpdesk-words");
  if (!root || !wordsNode) return;
  const words = JSON.parse(wordsNode.textContent);
  const csrf = root.dataset.csrf;

  function element(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }

  function minutes(seconds) {
    return words.minutes.replace("{minutes}", String(Math.floor(seconds / 60)));
  }

  function reason(chat) {
    return chat.why; // worded by the server: a guidance step by its title
  }

  function claimForm(chat) {
    const form = element("form", null, { method: "post", action: "/admin/helpdesk/claim", class: "inline" });
    form.append(element("input", null, { type: "hidden", name: "csrf_token", value: csrf }));
    form.append(element("input", null, { type: "hidden", name: "chat_id", value: String(chat.id) }));
    form.append(element("button", words.claim, { type: "submit", "aria-label": `${words.claim} ${chat.id}` }));
    return form;
  }

  // `labels` name each cell for a phone, where a row is drawn as a card (admin.css .cards);
  // the last cell, the row's button or link, has none and gets the class "act".
  function row(cells, labels) {
    const tr = element("tr");
    cells.forEach((cell, index) => {
      const td = element("td");
      if (index === cells.length - 1) td.className = "act";
      else if (labels[index]) td.dataset.label = labels[index];
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell;
      tr.append(td);
    });
    return tr;
  }

  function emptyRow(text, span) {
    const tr = element("tr");
    tr.append(element("td", text, { colspan: String(span), class: "empty" }));
    return tr;
  }

  function drawQueue(state) {
    const queue = document.getElementById("queue-rows");
    const mine = document.getElementById("mine-rows");
    if (queue) {
      const rows = state.queue.map((chat) => {
        const turns = element("ul", null, { class: "turns" });
        for (const turn of (chat.context || []).slice(-3)) {
          turns.append(element("li", `${words[turn.who] || turn.who}: ${turn.text}`, { class: `turn-${turn.who}` }));
        }
        return row([String(chat.id), chat.language, chat.channel, minutes(chat.waiting_seconds), reason(chat), turns, claimForm(chat)],
          [null, words.language, words.channel, words.waiting, words.reason, words.last_turns]);
      });
      queue.replaceChildren(...(rows.length ? rows : [emptyRow(words.queue_empty, 7)]));
      const count = document.getElementById("queue-count");
      if (count) count.textContent = String(state.queue.length);
    }
    if (mine) {
      const rows = state.mine.map((chat) =>
        row([String(chat.id), chat.language, chat.channel, minutes(chat.waiting_seconds),
          element("a", words.open, { href: `/admin/helpdesk/chat?id=${chat.id}` })],
          [null, words.language, words.channel, words.waiting]));
      mine.replaceChildren(...(rows.length ? rows : [emptyRow(words.mine_empty, 5)]));
    }
  }

  function drawMessages(state) {
    const list = document.getElementById("messages");
    if (!list) return;
    if (state.chat === null) {
      list.replaceChildren(element("li", words.not_yours, { class: "empty", role: "status" }));
      return;
    }
    const items = state.messages.map((line) => {
      const item = element("li", null, { class: `message from-${line.author}` });
      item.append(element("strong", `${line.staff_name || words[line.author] || line.author}:`), " ");
      item.append(element("span", line.text, { class: "text", dir: "auto" }));
      if (line.author !== "citizen") {
        const status = line.delivered ? words.sent : line.error ? words.failed.replace("{error}", line.error) : words.pending;
        item.append(" ", element("small", status, { class: "state" }));
      }
      return item;
    });
    list.replaceChildren(...(items.length ? items : [element("li", words.no_messages, { class: "empty" })]));
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.poll, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const state = await response.json();
        drawQueue(state);
        drawMessages(state);
      }
    } catch (error) {
      // the next poll tries again
    }
  }

  const canned = document.getElementById("canned");
  const answer = document.getElementById("answer");
  if (canned && answer) {
    canned.addEventListener("change", () => {
      const chosen = canned.selectedOptions[0];
      if (chosen && chosen.dataset.text) answer.value = chosen.dataset.text;
    });
  }
  window.setInterval(poll, POLL_MS);
})();

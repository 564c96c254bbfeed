// 👍/👎 on any reply and on every feedback report, with an optional short reason (issue 15, ADR 0028).
// Self-contained: it finds rateable items by their data attributes (li[data-message-id] of a counterpart,
// .feedback-card[data-report-id]), also when htmx or kit.js add them later, and clones the
// #rating-template control (templates/kit/rating.html) into each. Text goes through textContent only.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  function conversationId() {
    return document.getElementById("conversation")?.dataset.conversationId || "";
  }

  async function send(url, value, reason, control) {
    const body = JSON.stringify(reason ? { value: value, reason: reason } : { value: value });
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    });
    const status = control.querySelector(".rating-status");
    status.textContent = response.ok ? status.dataset.thanks : status.dataset.failed;
    if (response.ok) {
      for (const b of control.querySelectorAll("button[data-value]")) {
        b.setAttribute("aria-pressed", String(b.dataset.value === value));
      }
    }
    return response.ok;
  }

  function attach(item, url) {
    const template = document.getElementById("rating-template");
    if (!template || item.querySelector(".rating")) return;
    const control = template.content.firstElementChild.cloneNode(true);
    const form = control.querySelector("form");
    let chosen = "";
    control.addEventListener("click", async (e) => {
      const button = e.target.closest("button[data-value]");
      if (!button) return;
      chosen = button.dataset.value;
      if (await send(url, chosen, "", control)) form.hidden = false;
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const reason = form.querySelector("input").value.trim();
      if (chosen && reason && (await send(url, chosen, reason, control))) form.hidden = true;
    });
    item.appendChild(control);
  }

  function scan() {
    const cid = conversationId();
    if (!cid) return;
    const base = "/api/v2/chat/conversations/" + encodeURIComponent(cid);
    for (const li of document.querySelectorAll("#log li.counterpart[data-message-id]")) {
      if (li.dataset.messageId && !li.classList.contains("partial")) {
        attach(li, base + "/messages/" + encodeURIComponent(li.dataset.messageId) + "/rating");
      }
    }
    for (const card of document.querySelectorAll(".feedback-card[data-report-id]")) {
      attach(card, base + "/reports/" + encodeURIComponent(card.dataset.reportId) + "/rating");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    scan();
    new MutationObserver(scan).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["data-message-id"],
    });
  });
})();
